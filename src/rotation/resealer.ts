/**
 * Finishing an encryption key rotation on purpose: every sealed value in Redis (resume tokens,
 * webhook signing secrets, incoming-hook signing secrets) is re-sealed under the current key, so
 * the old key can be removed knowing nothing still needs it. Values are otherwise re-sealed only
 * when read, and a webhook secret or an idle user's token may not be read for months.
 *
 * One SCAN over the prefix's hashes (on every master of a Cluster); each sealed field is
 * re-sealed with a compare-and-set (reseal-field.ts), so running it beside live gateways is safe.
 * A value that cannot be opened (its key is not configured, or it is damaged) is left as it is
 * and reported: that is what removing the old key would break.
 */
import type { Cluster, Redis } from 'ioredis';
import { hookSecretAad } from '../hooks/hook-store.js';
import type { RedisClient } from '../redis/connection.js';
import { SEALED_FIELD } from '../sessions/credential-store.js';
import { CredentialDecryptError, type TokenCipher } from '../sessions/token-cipher.js';
import { webhookSecretAad } from '../webhooks/webhook-store.js';
import { resealField } from './reseal-field.js';

export type SealedKind = 'credential' | 'webhook-secret' | 'hook-secret';

/** A sealed value still not under the current key after the pass. */
export interface LeftValue {
  readonly kind: SealedKind;
  readonly key: string;
  readonly field: string;
  /** The key id that sealed it, when readable. */
  readonly keyId: string | undefined;
  /** Why it is left: `unknown-key`, `authentication-failed`, `malformed`, or `old-key` (check mode). */
  readonly reason: string;
}

export interface ResealProgress {
  /** Hashes looked at so far. */
  readonly scannedKeys: number;
  /** Sealed values found so far. */
  readonly values: number;
  readonly resealed: number;
  /** Already under the current key. */
  readonly current: number;
  /** Could not be re-sealed (or, in check mode, would need to be). */
  readonly left: number;
}

export interface ResealReport extends ResealProgress {
  readonly byKind: Readonly<Record<SealedKind, number>>;
  readonly leftValues: readonly LeftValue[];
}

export interface ResealOptions {
  readonly redis: RedisClient;
  /** `REDIS_KEY_PREFIX`. */
  readonly prefix: string;
  readonly cipher: TokenCipher;
  /** Only report what is not under the current key; write nothing. @defaultValue false */
  readonly isCheckOnly?: boolean;
  /** Called every `progressEvery` hashes and once at the end. */
  readonly onProgress?: (progress: ResealProgress) => void;
  /** @defaultValue 500 */
  readonly progressEvery?: number;
  /** Left values listed in the report at most (all are counted). @defaultValue 1000 */
  readonly maxListed?: number;
}

interface SealedHash {
  readonly kind: SealedKind;
  readonly fields: readonly string[];
  readonly aad: string;
}

export async function resealAll(options: ResealOptions): Promise<ResealReport> {
  const { redis, prefix, cipher } = options;
  const progressEvery = options.progressEvery ?? 500;
  const maxListed = options.maxListed ?? 1000;
  const classify = classifier(prefix);
  const counts = { scannedKeys: 0, values: 0, resealed: 0, current: 0, left: 0 };
  const byKind: Record<SealedKind, number> = { credential: 0, 'webhook-secret': 0, 'hook-secret': 0 };
  const leftValues: LeftValue[] = [];
  const leave = (value: LeftValue): void => {
    counts.left += 1;
    if (leftValues.length < maxListed) leftValues.push(value);
  };

  for (const node of scanNodes(redis)) {
    // Every sealed value lives in a hash under a hash-tagged key: `<prefix>:{u:…}` or `{hook:…}`.
    const stream = node.scanStream({ match: `${prefix}:{*`, type: 'hash', count: 500 });
    for await (const batch of stream as AsyncIterable<string[]>) {
      for (const key of batch) {
        counts.scannedKeys += 1;
        if (counts.scannedKeys % progressEvery === 0) options.onProgress?.({ ...counts });
        const sealedHash = classify(key);
        if (!sealedHash) continue;
        const values = await redis.hmget(key, ...sealedHash.fields);
        for (const [i, sealed] of values.entries()) {
          if (sealed === null) continue;
          const field = sealedHash.fields[i] as string;
          counts.values += 1;
          byKind[sealedHash.kind] += 1;
          const outcome = await resealOne(
            redis,
            cipher,
            { key, field, aad: sealedHash.aad },
            sealed,
            options,
          );
          if (outcome === 'current') counts.current += 1;
          else if (outcome === 'resealed') counts.resealed += 1;
          else leave({ kind: sealedHash.kind, key, field, ...outcome });
        }
      }
    }
  }
  options.onProgress?.({ ...counts });
  return { ...counts, byKind, leftValues };
}

type Outcome = 'current' | 'resealed' | { readonly keyId: string | undefined; readonly reason: string };

async function resealOne(
  redis: RedisClient,
  cipher: TokenCipher,
  target: { readonly key: string; readonly field: string; readonly aad: string },
  sealed: string,
  options: ResealOptions,
): Promise<Outcome> {
  let value: string | null = sealed;
  // A value changed under us was written by its owner; look again (a replica still running with
  // the old key as current could have written it under that key).
  for (let attempt = 0; attempt < 3 && value !== null; attempt++) {
    try {
      if (options.isCheckOnly) {
        if (!cipher.needsReencryption(value)) return 'current';
        cipher.decrypt(value, target.aad);
        return { keyId: keyIdOf(value), reason: 'old-key' };
      }
      const outcome = await resealField(redis, cipher, target, value);
      if (outcome !== 'changed') return outcome;
    } catch (err) {
      if (!(err instanceof CredentialDecryptError)) throw err;
      return { keyId: err.keyId, reason: err.reason };
    }
    value = await redis.hget(target.key, target.field);
  }
  return value === null || !cipher.needsReencryption(value)
    ? 'current'
    : { keyId: keyIdOf(value), reason: 'changing' };
}

/** Which sealed fields a key holds, from its name; undefined for every other key. */
function classifier(prefix: string): (key: string) => SealedHash | undefined {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const credential = new RegExp(`^${escaped}:\\{u:([^{}]+)\\}:cred$`);
  const webhook = new RegExp(`^${escaped}:\\{u:([^{}]+)\\}:wh:(wh_[A-Za-z0-9_-]+)$`);
  const hook = new RegExp(`^${escaped}:\\{hook:(hk_[A-Za-z0-9_-]+)\\}$`);
  return (key) => {
    let match = credential.exec(key);
    if (match) return { kind: 'credential', fields: [SEALED_FIELD], aad: match[1] as string };
    match = webhook.exec(key);
    if (match) {
      return {
        kind: 'webhook-secret',
        fields: ['secret', 'prevSecret'],
        aad: webhookSecretAad(match[1] as string, match[2] as string),
      };
    }
    match = hook.exec(key);
    if (match) return { kind: 'hook-secret', fields: ['secret'], aad: hookSecretAad(match[1] as string) };
    return undefined;
  };
}

/** Where to SCAN: the client itself, or each master of a Cluster. */
function scanNodes(redis: RedisClient): Redis[] {
  return 'nodes' in redis && typeof redis.nodes === 'function'
    ? (redis as Cluster).nodes('master')
    : [redis as Redis];
}

function keyIdOf(sealed: string): string | undefined {
  return sealed.split('.')[1];
}
