/**
 * The child processes of bench/sse-fanout.bench.ts, driven over Node's IPC channel: a command
 * goes out, the first reply with the awaited `op` comes back (or the wait times out). Children
 * can be started with a higher open-files limit than the bench's own (up to the hard limit).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { ROOT } from './stats.js';

interface Waiter {
  readonly op: string;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** The soft and hard limits of open files for processes started from here. */
export function fileLimits(): { soft: number; hard: number } {
  const read = (flag: string): number => {
    const out = execFileSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Number.POSITIVE_INFINITY : Number(out);
  };
  return { soft: read('-Sn'), hard: read('-Hn') };
}

export class IpcChild<Command, Reply extends { readonly op: string }> {
  readonly name: string;
  readonly child: ChildProcess;
  readonly #waiters: Waiter[] = [];
  readonly #unclaimed: Reply[] = [];
  readonly #exited: Promise<void>;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    child.on('message', (reply: Reply) => {
      const index = this.#waiters.findIndex((w) => w.op === reply.op);
      if (index < 0) {
        // Nobody waits yet (a child that is ready before its `ready` is awaited): keep it.
        this.#unclaimed.push(reply);
        return;
      }
      const [waiter] = this.#waiters.splice(index, 1);
      clearTimeout(waiter!.timer);
      waiter!.resolve(reply);
    });
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const waiter of this.#waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`${name} exited (${code ?? signal}) while waiting for ${waiter.op}`));
        }
        resolve();
      });
    });
  }

  /**
   * Starts `node --import tsx <script> ...args`, or plain `node <script>` for a compiled `.js`
   * script. With `openFiles`, the child's soft limit of open files is raised to that (it must
   * not exceed the hard limit: see `fileLimits`). `env` replaces the inherited environment.
   */
  static start<C, R extends { readonly op: string }>(
    name: string,
    script: string,
    args: readonly string[],
    options: {
      readonly nodeArgs?: readonly string[];
      readonly openFiles?: number;
      readonly env?: NodeJS.ProcessEnv;
    } = {},
  ): IpcChild<C, R> {
    const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const nodeArgs = [...(options.nodeArgs ?? []), ...loader, script, ...args];
    const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
    const child =
      options.openFiles !== undefined && fileLimits().soft < options.openFiles
        ? spawn(
            'sh',
            ['-c', 'ulimit -n "$0" && exec "$@"', String(options.openFiles), process.execPath, ...nodeArgs],
            { cwd: ROOT, stdio, env: options.env },
          )
        : spawn(process.execPath, nodeArgs, { cwd: ROOT, stdio, env: options.env });
    return new IpcChild<C, R>(name, child);
  }

  /**
   * Sends `command` (if any) and resolves with the next reply whose `op` is `op`; without a
   * command, a reply that came before anyone waited for it counts.
   */
  request<Op extends Reply['op']>(
    command: Command | undefined,
    op: Op,
    timeoutMs = 60_000,
  ): Promise<Extract<Reply, { op: Op }>> {
    return new Promise((resolve, reject) => {
      const early = this.#unclaimed.findIndex((r) => r.op === op);
      if (command === undefined && early >= 0) {
        resolve(this.#unclaimed.splice(early, 1)[0] as Extract<Reply, { op: Op }>);
        return;
      }
      const timer = setTimeout(() => {
        const index = this.#waiters.findIndex((w) => w.timer === timer);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new Error(`${this.name}: no ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push({ op, resolve: resolve as (reply: unknown) => void, reject, timer });
      if (command !== undefined) this.child.send(command as object);
    });
  }

  send(command: Command): void {
    this.child.send(command as object);
  }

  /** Disconnects (the child exits on that), and kills it if it has not exited after 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.disconnect();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.#exited;
    clearTimeout(killer);
  }
}
