/**
 * Entry point of every role (`GATEWAY_ROLE=api|worker|all`): load the config (a bad value stops
 * the process with one line naming the variable), start, and drain on SIGTERM/SIGINT within
 * `SHUTDOWN_GRACE_MS` so it fits Kubernetes' `terminationGracePeriodSeconds`.
 */
import { ConfigError, loadConfig } from './config/index.js';
import { startGateway } from './gateway.js';
import { createLogger } from './log/index.js';
import { createMetrics } from './metrics/index.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger({
    level: config.log.level,
    base: { role: config.role, workerId: config.workerId },
  });
  for (const warning of config.warnings) logger.warn(warning);
  const metrics = createMetrics({ defaultLabels: { role: config.role } });
  const gateway = await startGateway({ config, logger, metrics, metricsRegistry: metrics.registry });
  logger.info({ role: config.role, port: gateway.port }, 'gateway started');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'draining');
    const deadline = setTimeout(() => {
      logger.error('shutdown grace period exceeded; exiting now');
      process.exit(1);
    }, config.shutdownGraceMs);
    deadline.unref();
    gateway.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
