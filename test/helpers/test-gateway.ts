/**
 * The whole gateway (src/gateway.ts `startGateway`, role `all` unless told otherwise) in the test
 * process, on a free port, against a private Redis and the simulator.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/index.js';
import { type RunningGateway, startGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log/index.js';
import { createNoopMetrics, type PrometheusMetrics } from '../../src/metrics/index.js';
import { sharedEnv } from './test-core.js';

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
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    REDIS_URL: options.redisUrl,
    ROCKETCHAT_URL: options.rocketchatUrl,
    // Any free port, bound by the gateway itself (see gateway.port).
    PORT: '0',
    HOST: '127.0.0.1',
    WORKER_ID: `w-${randomUUID().slice(0, 8)}`,
    SESSION_LEASE_TTL_MS: '1500',
    SUBSCRIPTION_LINGER_MS: '200',
    RECONNECT_MAX_DELAY_MS: '1000',
    ...(options.shared ?? sharedEnv()),
    ...options.env,
  };
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const config = loadConfig(env);
  const gateway = await startGateway({
    config,
    logger: createLogger({ level: options.logLevel ?? 'debug', destination: sink }),
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
