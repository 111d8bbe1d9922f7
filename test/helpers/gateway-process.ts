/**
 * Runs the real gateway entry point (src/main.ts) as a child process, for tests that kill
 * workers with SIGKILL, drain them with SIGTERM, or run several replicas side by side.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-server.js';
import { waitFor } from './wait-for.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface GatewayProcess {
  readonly workerId: string;
  /** Where its HTTP server listens. */
  readonly url: string;
  readonly process: ChildProcess;
  /** Every line the process wrote (JSON log lines, mostly). */
  readonly output: string[];
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Environment shared by the processes of one test: same Redis, prefix and encryption key. */
export function sharedGatewayEnv(redisUrl: string, rocketchatUrl: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    ROCKETCHAT_URL: rocketchatUrl,
    REDIS_KEY_PREFIX: `t-${randomUUID().slice(0, 8)}`,
    GATEWAY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
  };
}

export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const workerId = env.WORKER_ID ?? `w-${randomUUID().slice(0, 8)}`;
  const port = env.PORT && env.PORT !== '0' ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, WORKER_ID: workerId, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) output.push(line);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const gateway: GatewayProcess = {
    workerId,
    url: `http://127.0.0.1:${port}`,
    process: child,
    output,
    waitForLine: (pattern, timeoutMs = 30_000) =>
      waitFor(() => output.find((line) => pattern.test(line)), timeoutMs, `a line matching ${pattern}`).catch(
        (err) => {
          throw new Error(
            `${(err as Error).message}\n--- process output ---\n${output.slice(-30).join('\n')}`,
          );
        },
      ),
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  await gateway.waitForLine(/gateway started/);
  return gateway;
}
