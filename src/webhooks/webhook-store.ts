/**
 * Webhook registrations in Redis, per user (architecture invariant 3: nothing that matters lives
 * only in a process). One HASH per webhook at `keys.user(uid).webhook(id)`:
 *
 *   url, description            as registered
 *   topics, events              JSON arrays (canonical topic strings, event types)
 *   filter                      the content filter as canonical JSON, '' (or absent) for none
 *   secret                      the signing secret, sealed with the TokenCipher (AAD binds it to
 *                               the user and webhook, so a sealed value copied elsewhere is useless)
 *   prevSecret, prevSecretUntilMs   the secret before the last rotation, signing until then
 *   status                      `enabled` | `disabled`
 *   disabledReason, disabledAtMs    `manual` | `failures` | `gone` (410), while disabled
 *   failures                    consecutive deliveries that exhausted their retries
 *   fromId                      the last event id logged before the webhook existed: it is sent
 *                               only what comes after
 *   createdAtMs, updatedAtMs, secretRotatedAtMs
 *   format                      `gateway` (absent) | `rocketchat` (rocketchat-format.ts)
 *   rcToken                     the `rocketchat` body's token, sealed like the secret
 *   headerNames, headers        custom request headers: the names in clear (the API lists
 *                               them), the name -> value JSON sealed (values may be API keys)
 *   okCount, failCount          attempts that succeeded / failed, ever (statistics)
 *   lastOkAtMs, lastErrAtMs, lastError, lastErrStatus   the latest success and failure
 *   attemptSeq                  attempts recorded so far: numbers the attempts LIST for cursors
 *
 * plus the user's SET of webhook ids and the global SET of users that have webhooks (what
 * dispatchers look after). Delivery bookkeeping (attempts, dead letters, the per-endpoint
 * semaphore) is in `delivery-ledger.ts`.
 */

import { type ContentFilter, contentFilterSchema } from '../events/content-filter.js';
import { formatTopic, parseTopics, type Topic } from '../events/topics.js';
import { EVENT_TYPES, type GatewayEventType } from '../events/types.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { LuaScript } from '../redis/lua-script.js';
import type { TokenCipher } from '../sessions/token-cipher.js';
import type { CustomHeaders } from './custom-headers.js';

export type WebhookStatus = 'enabled' | 'disabled';
/** `manual`: the owner turned it off; `failures`: too many exhausted deliveries; `gone`: the receiver answered 410. */
export type DisabledReason = 'manual' | 'failures' | 'gone';
/** `gateway`: the event envelope; `rocketchat`: Rocket.Chat's outgoing-integration body. */
export type WebhookFormat = 'gateway' | 'rocketchat';
export const WEBHOOK_FORMATS: readonly WebhookFormat[] = ['gateway', 'rocketchat'];

/** Delivery statistics kept on the record (the ledger's finish script moves them). */
export interface WebhookCounters {
  readonly succeeded: number;
  readonly failed: number;
  readonly lastSuccessAtMs: number | undefined;
  readonly lastErrorAtMs: number | undefined;
  readonly lastError: string | undefined;
  readonly lastErrorStatusCode: number | undefined;
}

export interface WebhookRecord {
  readonly id: string;
  readonly userId: string;
  readonly url: string;
  readonly topics: readonly Topic[];
  /** Empty: every type the topics carry. */
  readonly eventTypes: readonly GatewayEventType[];
  /** Undefined: every event the topics and types let through. */
  readonly filter: ContentFilter | undefined;
  readonly description: string;
  readonly status: WebhookStatus;
  readonly disabledReason: DisabledReason | undefined;
  readonly disabledAtMs: number | undefined;
  readonly consecutiveFailures: number;
  readonly fromId: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly secretRotatedAtMs: number | undefined;
  /** When the secret before the last rotation stops signing; undefined when there is none. */
  readonly previousSecretExpiresAtMs: number | undefined;
  readonly format: WebhookFormat;
  /** A `rocketchat` token is stored (its value is only shown when set). */
  readonly hasToken: boolean;
  /** Names of the custom request headers (lower-case); their values are never shown. */
  readonly headerNames: readonly string[];
  readonly counters: WebhookCounters;
}

/** A new webhook's fields (the service checks the url against the target policy first). */
export interface WebhookInput {
  readonly url: string;
  readonly topics: readonly Topic[];
  readonly eventTypes: readonly GatewayEventType[];
  readonly filter?: ContentFilter | undefined;
  readonly description: string;
  /** @defaultValue 'gateway' */
  readonly format?: WebhookFormat;
  /** The `rocketchat` token (the service generates one when the format needs it). */
  readonly token?: string;
  /** Custom request headers, names lower-case (checked by custom-headers.ts). */
  readonly headers?: CustomHeaders;
}

/** A change to a webhook: absent fields stay as they are. */
export interface WebhookChange {
  readonly url?: string;
  readonly topics?: readonly Topic[];
  readonly eventTypes?: readonly GatewayEventType[];
  /** null removes the filter. */
  readonly filter?: ContentFilter | null;
  readonly description?: string;
  /** true re-enables (and forgets past failures); false disables with reason `manual`. */
  readonly enabled?: boolean;
  readonly format?: WebhookFormat;
  readonly token?: string;
  /** Replaces every custom header; `{}` removes them all. */
  readonly headers?: CustomHeaders;
}

/** What the dispatcher needs of each webhook, without secrets. */
export interface DispatchTarget {
  readonly id: string;
  readonly status: WebhookStatus;
  readonly disabledReason: DisabledReason | undefined;
  readonly topics: readonly string[];
  readonly eventTypes: readonly string[];
  /** The stored filter JSON; '' for none. Compiled by the dispatcher, once per webhook version. */
  readonly filter: string;
  readonly fromId: string;
  readonly updatedAtMs: number;
}

export interface WebhookStoreOptions {
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  readonly cipher: TokenCipher;
}

// KEYS, ARGV and reply: see the header of each file.
const CREATE_SCRIPT = LuaScript.fromFile(import.meta.url, './webhook-store/create.lua', 4);

const UPDATE_SCRIPT = LuaScript.fromFile(import.meta.url, './webhook-store/update.lua', 2);

const ROTATE_SCRIPT = LuaScript.fromFile(import.meta.url, './webhook-store/rotate.lua', 1);

/**
 * The webhook record's hash fields. This store writes the record; the delivery ledger's scripts
 * count attempts and statistics in it and disable it (delivery-ledger/*.lua, as the Lua table
 * `F`), so they use these names rather than spell their own.
 */
export const WEBHOOK_FIELDS = {
  url: 'url',
  topics: 'topics',
  events: 'events',
  filter: 'filter',
  description: 'description',
  status: 'status',
  disabledReason: 'disabledReason',
  disabledAtMs: 'disabledAtMs',
  failures: 'failures',
  fromId: 'fromId',
  createdAtMs: 'createdAtMs',
  updatedAtMs: 'updatedAtMs',
  secretRotatedAtMs: 'secretRotatedAtMs',
  prevSecretUntilMs: 'prevSecretUntilMs',
  format: 'format',
  rcToken: 'rcToken',
  headerNames: 'headerNames',
  okCount: 'okCount',
  failCount: 'failCount',
  lastOkAtMs: 'lastOkAtMs',
  lastErrAtMs: 'lastErrAtMs',
  lastError: 'lastError',
  lastErrStatus: 'lastErrStatus',
  secret: 'secret',
  prevSecret: 'prevSecret',
  headers: 'headers',
  attemptSeq: 'attemptSeq',
} as const;

const F = WEBHOOK_FIELDS;

const RECORD_FIELDS = [
  F.url,
  F.topics,
  F.events,
  F.filter,
  F.description,
  F.status,
  F.disabledReason,
  F.disabledAtMs,
  F.failures,
  F.fromId,
  F.createdAtMs,
  F.updatedAtMs,
  F.secretRotatedAtMs,
  F.prevSecretUntilMs,
  F.format,
  F.rcToken,
  F.headerNames,
  F.okCount,
  F.failCount,
  F.lastOkAtMs,
  F.lastErrAtMs,
  F.lastError,
  F.lastErrStatus,
] as const;

const DISPATCH_TARGETS_SCRIPT = LuaScript.fromFile(
  import.meta.url,
  './webhook-store/dispatch-targets.lua',
  2,
);

export class WebhookStore {
  readonly #redis: RedisClient;
  readonly #keys: GatewayKeys;
  readonly #cipher: TokenCipher;

  constructor(options: WebhookStoreOptions) {
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#cipher = options.cipher;
  }

  /** Stores a new webhook; undefined when the user already has `maxPerUser`. */
  async create(
    userId: string,
    id: string,
    input: WebhookInput,
    secret: string,
    nowMs: number,
    maxPerUser: number,
  ): Promise<WebhookRecord | undefined> {
    const keys = this.#keys.user(userId);
    const fields = [
      'url',
      input.url,
      'topics',
      JSON.stringify(input.topics.map(formatTopic)),
      'events',
      JSON.stringify(input.eventTypes),
      'filter',
      input.filter ? JSON.stringify(input.filter) : '',
      'description',
      input.description,
      'secret',
      this.#seal(userId, id, secret),
      'status',
      'enabled',
      'failures',
      '0',
      'createdAtMs',
      String(nowMs),
      'updatedAtMs',
      String(nowMs),
      ...this.#optionalFields(userId, id, input),
    ];
    const created = await CREATE_SCRIPT.run<number>(
      this.#redis,
      [keys.webhook(id), keys.webhookIds, keys.events, keys.webhookVersion],
      [maxPerUser, id, ...fields],
    );
    if (created !== 1) return undefined;
    // Global set: a separate command, so a Cluster never sees a cross-slot script.
    await this.#redis.sadd(this.#keys.webhookUsers, userId);
    return this.get(userId, id);
  }

  async get(userId: string, id: string): Promise<WebhookRecord | undefined> {
    const values = await this.#redis.hmget(this.#keys.user(userId).webhook(id), ...RECORD_FIELDS);
    return toRecord(userId, id, values);
  }

  /** The user's webhooks, oldest first. */
  async list(userId: string): Promise<WebhookRecord[]> {
    const keys = this.#keys.user(userId);
    const ids = await this.#redis.smembers(keys.webhookIds);
    if (ids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hmget(keys.webhook(id), ...RECORD_FIELDS);
    const results = (await pipeline.exec()) ?? [];
    const records: WebhookRecord[] = [];
    ids.forEach((id, i) => {
      const [err, values] = results[i] ?? [];
      if (err) throw err;
      const record = toRecord(userId, id, values as (string | null)[]);
      if (record) records.push(record);
    });
    return records.sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  /** Applies a change; undefined when the webhook does not exist. */
  async update(
    userId: string,
    id: string,
    patch: WebhookChange,
    nowMs: number,
  ): Promise<WebhookRecord | undefined> {
    const fields: string[] = [];
    if (patch.url !== undefined) fields.push('url', patch.url);
    if (patch.topics !== undefined) fields.push('topics', JSON.stringify(patch.topics.map(formatTopic)));
    if (patch.eventTypes !== undefined) fields.push('events', JSON.stringify(patch.eventTypes));
    if (patch.filter !== undefined) fields.push('filter', patch.filter ? JSON.stringify(patch.filter) : '');
    if (patch.description !== undefined) fields.push('description', patch.description);
    fields.push(...this.#optionalFields(userId, id, patch));
    const enable = patch.enabled === undefined ? '' : patch.enabled ? '1' : '0';
    const keys = this.#keys.user(userId);
    const done = await UPDATE_SCRIPT.run<number>(
      this.#redis,
      [keys.webhook(id), keys.webhookVersion],
      [enable, nowMs, ...fields],
    );
    return done === 1 ? this.get(userId, id) : undefined;
  }

  /**
   * Makes `secret` the signing secret; the one it replaces keeps signing until
   * `nowMs + graceMs`. False when the webhook does not exist.
   */
  async rotateSecret(
    userId: string,
    id: string,
    secret: string,
    nowMs: number,
    graceMs: number,
  ): Promise<boolean> {
    const done = await ROTATE_SCRIPT.run<number>(
      this.#redis,
      [this.#keys.user(userId).webhook(id)],
      [this.#seal(userId, id, secret), nowMs, nowMs + graceMs],
    );
    return done === 1;
  }

  /**
   * Deletes the webhook with its attempts and dead letters. Resolves with how many webhooks the
   * user has left, or undefined when it did not exist.
   */
  async remove(userId: string, id: string): Promise<number | undefined> {
    const keys = this.#keys.user(userId);
    const results = await this.#redis
      .multi()
      .srem(keys.webhookIds, id)
      .del(
        keys.webhook(id),
        keys.webhookAttempts(id),
        keys.webhookDeadLetters(id),
        keys.webhookDeadLetterBodies(id),
        keys.webhookInflight(id),
        keys.webhookPending(id),
      )
      .scard(keys.webhookIds)
      .incr(keys.webhookVersion)
      .exec();
    const removed = Number(results?.[0]?.[1] ?? 0);
    const left = Number(results?.[2]?.[1] ?? 0);
    if (left === 0) await this.#redis.srem(this.#keys.webhookUsers, userId);
    return removed === 1 ? left : undefined;
  }

  /**
   * Everything the dispatcher needs to route events, in one round trip, with the version of the
   * user's webhooks it was read at ('' before the first change: see `webhookVersion()`).
   */
  async dispatchTargets(userId: string): Promise<{ version: string; targets: DispatchTarget[] }> {
    const keys = this.#keys.user(userId);
    const flat = await DISPATCH_TARGETS_SCRIPT.run<string[]>(
      this.#redis,
      [keys.webhookIds, keys.webhookVersion],
      [keys.webhookPrefix],
    );
    const targets: DispatchTarget[] = [];
    for (let i = 1; i + 7 < flat.length; i += 8) {
      const [id, status, disabledReason, topics, events, fromId, updatedAtMs, filter] = flat.slice(
        i,
        i + 8,
      ) as string[];
      targets.push({
        id: id!,
        status: status === 'enabled' ? 'enabled' : 'disabled',
        disabledReason: disabledReason ? (disabledReason as DisabledReason) : undefined,
        topics: JSON.parse(topics!) as string[],
        eventTypes: events ? (JSON.parse(events) as string[]) : [],
        fromId: fromId!,
        updatedAtMs: Number(updatedAtMs || 0),
        filter: filter ?? '',
      });
    }
    return { version: String(flat[0] ?? ''), targets };
  }

  /**
   * The version of the user's webhooks: it changes with every create, update, delete and
   * disablement, so equal versions mean equal `dispatchTargets`.
   */
  async webhookVersion(userId: string): Promise<string> {
    return (await this.#redis.get(this.#keys.user(userId).webhookVersion)) ?? '';
  }

  /** Users with at least one webhook. */
  users(): Promise<string[]> {
    return this.#redis.smembers(this.#keys.webhookUsers);
  }

  /** Format, token and headers as hash fields; an empty header map is stored as none. */
  #optionalFields(
    userId: string,
    id: string,
    input: Pick<WebhookInput, 'format' | 'token' | 'headers'>,
  ): string[] {
    const fields: string[] = [];
    if (input.format !== undefined) fields.push('format', input.format);
    if (input.token !== undefined) {
      fields.push('rcToken', this.#cipher.encrypt(input.token, webhookTokenAad(userId, id)));
    }
    if (input.headers !== undefined) {
      const names = Object.keys(input.headers).sort();
      fields.push(
        'headerNames',
        JSON.stringify(names),
        'headers',
        names.length === 0
          ? ''
          : this.#cipher.encrypt(JSON.stringify(input.headers), webhookHeadersAad(userId, id)),
      );
    }
    return fields;
  }

  /**
   * Opens a sealed `rocketchat` token.
   * @throws CredentialDecryptError when it cannot be opened.
   */
  openToken(userId: string, id: string, sealed: string): string {
    return this.#cipher.decrypt(sealed, webhookTokenAad(userId, id));
  }

  /**
   * Opens sealed custom headers (empty: none).
   * @throws CredentialDecryptError when they cannot be opened.
   */
  openHeaders(userId: string, id: string, sealed: string): CustomHeaders {
    if (sealed === '') return {};
    return JSON.parse(this.#cipher.decrypt(sealed, webhookHeadersAad(userId, id))) as CustomHeaders;
  }

  /** Seals a secret for storage. */
  #seal(userId: string, id: string, secret: string): string {
    return this.#cipher.encrypt(secret, webhookSecretAad(userId, id));
  }

  /**
   * The plain signing secrets (current first, then the previous one while its grace lasts).
   * @throws CredentialDecryptError when a stored secret cannot be opened.
   */
  openSecrets(
    userId: string,
    id: string,
    sealed: string,
    previousSealed: string | undefined,
    previousUntilMs: number | undefined,
    nowMs: number,
  ): string[] {
    const aad = webhookSecretAad(userId, id);
    const secrets = [this.#cipher.decrypt(sealed, aad)];
    if (previousSealed && previousUntilMs !== undefined && nowMs < previousUntilMs) {
      secrets.push(this.#cipher.decrypt(previousSealed, aad));
    }
    return secrets;
  }
}

/** AADs of the token and headers: each opens only as what it is, in this user's webhook. */
function webhookTokenAad(userId: string, id: string): string {
  return `webhook-token:${userId}:${id}`;
}

function webhookHeadersAad(userId: string, id: string): string {
  return `webhook-headers:${userId}:${id}`;
}

/** The AAD a webhook's secrets are sealed with: they open only in this user's webhook. */
export function webhookSecretAad(userId: string, id: string): string {
  return `webhook:${userId}:${id}`;
}

function toRecord(userId: string, id: string, values: readonly (string | null)[]): WebhookRecord | undefined {
  const [
    url,
    topics,
    events,
    filter,
    description,
    status,
    disabledReason,
    disabledAtMs,
    failures,
    fromId,
    createdAtMs,
    updatedAtMs,
    secretRotatedAtMs,
    prevSecretUntilMs,
    format,
    rcToken,
    headerNames,
    okCount,
    failCount,
    lastOkAtMs,
    lastErrAtMs,
    lastError,
    lastErrStatus,
  ] = values;
  if (!url || !topics || !status) return undefined;
  const eventTypes = (events ? (JSON.parse(events) as string[]) : []).filter((t): t is GatewayEventType =>
    (EVENT_TYPES as readonly string[]).includes(t),
  );
  return {
    id,
    userId,
    url,
    topics: parseTopics(JSON.parse(topics) as string[]),
    eventTypes,
    filter: storedFilter(filter),
    description: description ?? '',
    status: status === 'enabled' ? 'enabled' : 'disabled',
    disabledReason: status === 'enabled' ? undefined : ((disabledReason ?? 'manual') as DisabledReason),
    disabledAtMs: optionalNumber(disabledAtMs),
    consecutiveFailures: Number(failures ?? 0),
    fromId: fromId ?? '0-0',
    createdAtMs: Number(createdAtMs ?? 0),
    updatedAtMs: Number(updatedAtMs ?? 0),
    secretRotatedAtMs: optionalNumber(secretRotatedAtMs),
    previousSecretExpiresAtMs: optionalNumber(prevSecretUntilMs),
    format: format === 'rocketchat' ? 'rocketchat' : 'gateway',
    hasToken: Boolean(rcToken),
    headerNames: headerNames ? (JSON.parse(headerNames) as string[]) : [],
    counters: {
      succeeded: Number(okCount ?? 0),
      failed: Number(failCount ?? 0),
      lastSuccessAtMs: optionalNumber(lastOkAtMs),
      lastErrorAtMs: optionalNumber(lastErrAtMs),
      lastError: lastError ?? undefined,
      lastErrorStatusCode: optionalNumber(lastErrStatus),
    },
  };
}

/**
 * The stored filter for display; one that no longer reads or validates (a newer version's)
 * shows as none here, and the dispatcher delivers nothing to it rather than everything.
 */
function storedFilter(value: string | null | undefined): ContentFilter | undefined {
  if (!value) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return undefined;
  }
  const parsed = contentFilterSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

function optionalNumber(value: string | null | undefined): number | undefined {
  return value === null || value === undefined || value === '' ? undefined : Number(value);
}
