/**
 * Which key signs and verifies gateway tokens, from `JWT_SECRET`, `JWT_PUBLIC_KEY`,
 * `JWT_PRIVATE_KEY` and `JWT_ALGORITHM`. Keys are parsed here, at start, so a bad PEM or a
 * mismatched pair stops the gateway instead of failing the first login.
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import type { ConfigProblems } from './config-problems.js';
import type { ParsedEnv } from './env-schema.js';
import type { JwtKeyConfig } from './gateway-config.js';

export interface ResolvedJwtKeys {
  readonly keys: JwtKeyConfig;
  readonly isEphemeral: boolean;
}

type JwtEnv = Pick<ParsedEnv, 'JWT_SECRET' | 'JWT_PUBLIC_KEY' | 'JWT_PRIVATE_KEY' | 'JWT_ALGORITHM'>;

// jsonwebtoken 9 refuses RSA keys below 2048 bits; say so at start rather than at first use.
const MIN_RSA_BITS = 2048;

export function resolveJwtKeys(
  env: JwtEnv,
  isProduction: boolean,
  problems: ConfigProblems,
  warnings: string[],
): ResolvedJwtKeys {
  const ephemeral: ResolvedJwtKeys = {
    keys: { algorithm: 'HS256', secret: randomBytes(32).toString('base64url') },
    isEphemeral: true,
  };
  if (problems.hasAny('JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_PRIVATE_KEY', 'JWT_ALGORITHM')) return ephemeral;
  const {
    JWT_SECRET: secret,
    JWT_PUBLIC_KEY: publicPem,
    JWT_PRIVATE_KEY: privatePem,
    JWT_ALGORITHM: algorithm,
  } = env;
  const hasKeyPair = publicPem !== undefined || privatePem !== undefined;

  if (secret !== undefined && hasKeyPair) {
    problems.add('JWT_SECRET', 'set either JWT_SECRET (HS256) or JWT_PUBLIC_KEY/JWT_PRIVATE_KEY, not both');
    return ephemeral;
  }
  if (secret !== undefined) {
    if (algorithm !== undefined && algorithm !== 'HS256') {
      problems.add('JWT_ALGORITHM', `must be HS256 with JWT_SECRET (got "${algorithm}")`);
    }
    return { keys: { algorithm: 'HS256', secret }, isEphemeral: false };
  }
  if (hasKeyPair)
    return resolveKeyPair(publicPem, privatePem, algorithm, isProduction, problems, warnings) ?? ephemeral;

  if (algorithm === 'RS256' || algorithm === 'ES256') {
    problems.add('JWT_ALGORITHM', `${algorithm} needs JWT_PUBLIC_KEY and JWT_PRIVATE_KEY`);
  } else if (isProduction) {
    problems.add('JWT_SECRET', 'required in production (or JWT_PUBLIC_KEY and JWT_PRIVATE_KEY)');
  } else {
    warnings.push(
      'JWT_SECRET is not set: using a random secret for this process only; its tokens stop working on restart and are not accepted by other replicas',
    );
  }
  return ephemeral;
}

function resolveKeyPair(
  publicPem: string | undefined,
  privatePem: string | undefined,
  requested: JwtKeyConfig['algorithm'] | undefined,
  isProduction: boolean,
  problems: ConfigProblems,
  warnings: string[],
): ResolvedJwtKeys | undefined {
  const privateKey = privatePem === undefined ? undefined : parseKey(() => createPrivateKey(privatePem));
  if (privatePem !== undefined && !privateKey)
    problems.add('JWT_PRIVATE_KEY', 'must be a PEM-encoded private key');
  // createPublicKey() also accepts a private key (and derives its public half): refuse that, a
  // private key must not travel in a variable that is meant to be shareable.
  const publicKey =
    publicPem === undefined || publicPem.includes('PRIVATE KEY')
      ? undefined
      : parseKey(() => createPublicKey(publicPem));
  if (publicPem !== undefined && !publicKey)
    problems.add('JWT_PUBLIC_KEY', 'must be a PEM-encoded public key');
  if (problems.hasAny('JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY')) return undefined;

  // A private key alone is enough: its public half is derived from it.
  const verifyKey = publicKey ?? createPublicKey(privateKey as KeyObject);
  const keyVariable = publicKey ? 'JWT_PUBLIC_KEY' : 'JWT_PRIVATE_KEY';
  const algorithm = algorithmOf(verifyKey);
  if (typeof algorithm !== 'string') {
    problems.add(keyVariable, algorithm.problem);
    return undefined;
  }
  if (requested !== undefined && requested !== algorithm) {
    problems.add('JWT_ALGORITHM', `must be ${algorithm} for the ${keyVariable} given (got "${requested}")`);
    return undefined;
  }
  if (publicKey && privateKey && !samePublicKey(publicKey, createPublicKey(privateKey))) {
    problems.add('JWT_PRIVATE_KEY', 'does not match JWT_PUBLIC_KEY');
    return undefined;
  }
  if (!privateKey) {
    if (isProduction) {
      problems.add(
        'JWT_PRIVATE_KEY',
        'required in production with JWT_PUBLIC_KEY (the gateway issues tokens)',
      );
      return undefined;
    }
    warnings.push('JWT_PRIVATE_KEY is not set: tokens are verified but the gateway cannot issue any');
  }
  return {
    keys: {
      algorithm,
      publicKey: publicPem ?? (verifyKey.export({ type: 'spki', format: 'pem' }) as string),
      privateKey: privatePem,
    },
    isEphemeral: false,
  };
}

function parseKey(parse: () => KeyObject): KeyObject | undefined {
  try {
    return parse();
  } catch {
    // The reason (bad base64, wrong header) is in OpenSSL's words; ours says what is expected.
    return undefined;
  }
}

function algorithmOf(key: KeyObject): 'RS256' | 'ES256' | { problem: string } {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details?.modulusLength ?? 0;
    return bits >= MIN_RSA_BITS
      ? 'RS256'
      : { problem: `RSA key must be at least ${MIN_RSA_BITS} bits (got ${bits})` };
  }
  // ES256 is ECDSA on P-256 (RFC 7518 §3.4), which OpenSSL calls prime256v1.
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'ES256';
  return { problem: `must be an RSA (RS256) or P-256 EC (ES256) key (got ${describeKey(key)})` };
}

function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve ? `${key.asymmetricKeyType} ${curve}` : String(key.asymmetricKeyType);
}

function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}
