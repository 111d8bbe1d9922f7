/**
 * `node dist/src/rotation/reseal-main.js [--check]` (`npm run reseal` from a checkout): the
 * operator's command that finishes an encryption key rotation. Run it with the gateway's
 * environment after every replica has the new `GATEWAY_ENCRYPTION_KEY` (and the old key in
 * `GATEWAY_ENCRYPTION_OLD_KEYS`). It re-seals every stored secret under the current key, prints
 * progress to stderr and the report as JSON to stdout, and exits 0 when nothing is left under
 * another key (the old key may then be removed), 2 when something is (listed in the report).
 * `--check` only reports, writing nothing.
 */
import { ConfigError, loadConfig } from '../config/index.js';
import { createRedisClient } from '../redis/connection.js';
import { createTokenCipherFromConfig } from '../sessions/token-cipher.js';
import { resealAll } from './resealer.js';

const EXIT_CONFIG = 78;
const EXIT_LEFT = 2;

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument ${unknown[0]}; usage: reseal [--check]\n`);
    return EXIT_CONFIG;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return EXIT_CONFIG;
  }
  if (config.encryption.isEphemeral) {
    // A random key would re-seal everything under a key nobody has: refuse.
    process.stderr.write(
      'GATEWAY_ENCRYPTION_KEY is not set: nothing can be re-sealed without the real key\n',
    );
    return EXIT_CONFIG;
  }
  const redis = createRedisClient(config.redis, { name: 'reseal' });
  try {
    const isCheckOnly = args.includes('--check');
    const report = await resealAll({
      redis,
      prefix: config.redis.keyPrefix,
      cipher: createTokenCipherFromConfig(config.encryption),
      isCheckOnly,
      onProgress: (p) =>
        process.stderr.write(
          `reseal: ${p.scannedKeys} keys scanned, ${p.values} sealed values: ${p.resealed} re-sealed, ${p.current} already under "${config.encryption.current.id}", ${p.left} left\n`,
        ),
    });
    process.stdout.write(
      `${JSON.stringify({ currentKeyId: config.encryption.current.id, isCheckOnly, ...report })}\n`,
    );
    return report.left === 0 ? 0 : EXIT_LEFT;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`reseal failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
