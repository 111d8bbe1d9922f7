/**
 * Runs the real gateway entry point (src/main.ts) as a child process, for tests that kill
 * workers with SIGKILL, drain them with SIGTERM, or run several replicas side by side.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
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
  // PORT 0 unless the test names one: the process binds a free port itself and logs it. (Asking
  // for a free port first and passing it on races with every other process binding one.)
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, WORKER_ID: workerId, PORT: env.PORT ?? '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  // A line may arrive in two chunks: keep the unfinished tail of each stream until its end.
  const collector = () => {
    let tail = '';
    return (chunk: Buffer): void => {
      const lines = (tail + chunk.toString()).split('\n');
      tail = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) output.push(line);
    };
  };
  child.stdout?.on('data', collector());
  child.stderr?.on('data', collector());
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let url = '';
  const gateway: GatewayProcess = {
    workerId,
    get url() {
      return url;
    },
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
  // A loaded machine (CI runs test files in parallel) can take a while to import and start it.
  const started = await gateway.waitForLine(/gateway started/, 90_000);
  url = `http://127.0.0.1:${(JSON.parse(started) as { port: number }).port}`;
  return gateway;
}
