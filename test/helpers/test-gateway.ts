import { loadConfig } from '../../src/config/index.js';
import { type RunningGateway, startGateway } from '../../src/gateway.js';
import { createNoopMetrics, type PrometheusMetrics } from '../../src/metrics/index.js';
import { createMemoryLogger, testEnv } from './test-core.js';

export interface TestGateway {
  readonly url: string;
  readonly gateway: RunningGateway;
  readonly env: Record<string, string>;
  readonly logLines: string[];
  close(): Promise<void>;
}

export async function startTestGateway(options: {
  redisUrl: string;
  rocketchatUrl: string;
  shared?: Record<string, string>;
  env?: Record<string, string>;
  /** Real metrics, served at /metrics (or on METRICS_PORT); no-op metrics otherwise. */
  metrics?: PrometheusMetrics;
  /** What `logLines` records. @defaultValue 'debug' */
  logLevel?: 'trace' | 'debug';
}): Promise<TestGateway> {
  // Any free port, bound by the gateway itself (see gateway.port).
  const env = testEnv({ ...options, defaults: { PORT: '0', HOST: '127.0.0.1' } });
  const { logger, logLines } = createMemoryLogger(options.logLevel);
  const config = loadConfig(env);
  const gateway = await startGateway({
    config,
    logger,
    metrics: options.metrics ?? createNoopMetrics(),
    ...(options.metrics ? { metricsRegistry: options.metrics.registry } : {}),
  });
  return { url: `http://127.0.0.1:${gateway.port}`, gateway, env, logLines, close: () => gateway.close() };
}

/** Logs in through the gateway (`POST /v1/sessions`) and returns the gateway JWT. */
export async function loginThroughGateway(
  url: string,
  username: string,
): Promise<{ token: string; userId: string }> {
  const response = await fetch(`${url}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: `${username}-pass` }),
  });
  if (response.status !== 201) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as { token: string; userId: string };
}
