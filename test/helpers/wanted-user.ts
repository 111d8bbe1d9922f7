/**
 * Makes a simulator user wanted by gateway processes that share `env` (their Redis, key prefix
 * and encryption key), without any process running: the user's resume token stored as the
 * gateway stores it, and a durable consumer (as a webhook is) so that a worker holds the session.
 * For tests and benchmarks that start, kill and pause worker processes.
 */
import { parseTopics } from '../../src/events/topics.js';
import type { RedisClient } from '../../src/redis/connection.js';
import { createKeys } from '../../src/redis/keys.js';
import { RocketChatRestClient } from '../../src/rocketchat/rest-client.js';
import { ConsumerRegistry } from '../../src/sessions/consumer-registry.js';
import { createCredentialStore } from '../../src/sessions/credential-store.js';
import { createTokenCipher } from '../../src/sessions/token-cipher.js';

export interface WantedUserOptions {
  readonly redis: RedisClient;
  /** The processes' environment (`sharedGatewayEnv`): REDIS_KEY_PREFIX and GATEWAY_ENCRYPTION_KEY. */
  readonly env: Readonly<Record<string, string>>;
  readonly rocketchatUrl: string;
  /** Its password must be `<username>-pass`, as the simulator's seeded users have. */
  readonly username: string;
  /** @defaultValue 'room:GENERAL' */
  readonly topics?: string;
  /** @defaultValue 'test' */
  readonly consumerId?: string;
}

/** Resolves with the user's id. */
export async function makeUserWanted(options: WantedUserOptions): Promise<string> {
  const { redis, env, username } = options;
  const keys = createKeys(env.REDIS_KEY_PREFIX);
  const credentials = createCredentialStore({
    redis,
    keys,
    cipher: createTokenCipher({
      currentKeyId: 'k1',
      keys: new Map([['k1', Buffer.from(env.GATEWAY_ENCRYPTION_KEY ?? '', 'base64')]]),
    }),
  });
  const auth = await new RocketChatRestClient({ baseUrl: options.rocketchatUrl }).loginWithPassword(
    username,
    `${username}-pass`,
  );
  await credentials.save(auth.userId, { token: auth.token, username });
  await new ConsumerRegistry({ redis, keys }).register(
    auth.userId,
    options.consumerId ?? 'test',
    parseTopics(options.topics ?? 'room:GENERAL'),
    'durable',
  );
  return auth.userId;
}
