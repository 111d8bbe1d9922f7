/**
 * A private Redis Cluster for tests: N masters on loopback (`redis-server --cluster-enabled yes`),
 * joined with `redis-cli --cluster create`, no replicas. Only `redis-server` and `redis-cli` are
 * needed (Debian's redis-server package has both).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseServerArgs, freePort } from './redis-server.js';
import { waitFor } from './wait-for.js';

/** Redis Cluster's bus listens on the client port + 10000. */
const BUS_PORT_OFFSET = 10_000;

export interface PrivateRedisCluster {
  /** One node's URL: the seed a cluster client starts from. */
  readonly seedUrl: string;
  readonly ports: readonly number[];
  /** Runs a redis-cli command against one node (`-c` follows redirections). */
  cli(port: number, ...args: string[]): string;
  /** Stops one node, saving its data (`SHUTDOWN SAVE`); its slots are unserved meanwhile. */
  stopNode(port: number): Promise<void>;
  /** Starts a stopped node again with its data and cluster state; resolves when the cluster is ok. */
  startNode(port: number): Promise<void>;
  close(): Promise<void>;
}

export function hasRedisCli(): boolean {
  return spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0;
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster-bus port is free too. */
async function freeClusterPort(taken: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port + BUS_PORT_OFFSET > 65_535 || taken.has(port)) continue;
    if (await isPortFree(port + BUS_PORT_OFFSET)) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

function runCli(args: readonly string[]): string {
  const result = spawnSync('redis-cli', args, { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0)
    throw new Error(`redis-cli ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  return result.stdout;
}

export async function startRedisCluster(masters = 3): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-cluster-'));
  const children = new Map<number, ChildProcess>();
  const ports: number[] = [];
  const launch = (port: number): void => {
    children.set(
      port,
      spawn(
        'redis-server',
        [
          ...baseServerArgs(port, dir),
          // Each node its own files in the shared directory: the cluster state survives a restart
          // (same node id, same slots), and so does the data written at SHUTDOWN SAVE.
          ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`],
          ...['--dbfilename', `dump-${port}.rdb`, '--cluster-node-timeout', '5000'],
        ],
        { stdio: 'ignore' },
      ),
    );
  };
  const stopNode = async (port: number): Promise<void> => {
    const child = children.get(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Atomic save-and-exit: nothing acknowledged before it is lost (as in redis-server.ts).
    spawnSync('redis-cli', ['-p', String(port), 'SHUTDOWN', 'SAVE'], { stdio: 'ignore' });
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const waitForClusterOk = async (): Promise<void> => {
    // Every node must agree that all 16384 slots are served before clients may rely on it.
    for (const port of ports) {
      await waitFor(
        () => runCliQuiet(port, 'CLUSTER', 'INFO')?.includes('cluster_state:ok'),
        30_000,
        `cluster node ${port} to report cluster_state:ok`,
      );
    }
  };
  const close = async (): Promise<void> => {
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort(new Set(ports));
      ports.push(port);
      launch(port);
    }
    for (const port of ports) {
      await waitFor(() => runCliQuiet(port, 'PING') === 'PONG', 10_000, `cluster node ${port} to answer`);
    }
    runCli([
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await waitForClusterOk();
  } catch (err) {
    await close();
    throw err;
  }
  return {
    seedUrl: `redis://127.0.0.1:${ports[0]}`,
    ports,
    cli: (port, ...args) => runCli(['-c', '-p', String(port), ...args]).trim(),
    stopNode,
    startNode: async (port) => {
      launch(port);
      await waitFor(() => runCliQuiet(port, 'PING') === 'PONG', 10_000, `cluster node ${port} to answer`);
      await waitForClusterOk();
    },
    close,
  };
}

function runCliQuiet(port: number, ...args: string[]): string | undefined {
  const result = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 5_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}
