/**
 * Where an event consumer keeps the id of the last event it handled, so that a restarted
 * process resumes with `Last-Event-ID` instead of starting live and missing what came meanwhile.
 * Pluggable: keep it in memory, in a file, or beside the consumer's own data (a row written in
 * the same transaction as the event's effect makes handling exactly-once).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface PositionStore {
  /** The last id saved under `key`, or undefined when there is none. */
  load(key: string): Promise<string | undefined>;
  /** Saves `eventId` as the position of `key`. */
  save(key: string, eventId: string): Promise<void>;
}

/** Positions for the life of the process: reconnects resume, restarts do not. */
export class MemoryPositionStore implements PositionStore {
  readonly #positions = new Map<string, string>();

  async load(key: string): Promise<string | undefined> {
    return this.#positions.get(key);
  }

  async save(key: string, eventId: string): Promise<void> {
    this.#positions.set(key, eventId);
  }
}

/**
 * Positions in one JSON file (`{ "<key>": "<event id>" }`), rewritten whole on each save through a
 * temporary file and a rename, so a crash mid-write leaves the previous content, never half of it.
 * Saves are serialized; one process per file.
 */
export class FilePositionStore implements PositionStore {
  readonly #path: string;
  #positions: Promise<Map<string, string>> | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.#path = path;
  }

  async load(key: string): Promise<string | undefined> {
    return (await this.#read()).get(key);
  }

  save(key: string, eventId: string): Promise<void> {
    const write = this.#writing.then(async () => {
      const positions = await this.#read();
      positions.set(key, eventId);
      const temporary = `${this.#path}.${process.pid}.tmp`;
      await mkdir(dirname(this.#path), { recursive: true });
      await writeFile(temporary, JSON.stringify(Object.fromEntries(positions)));
      await rename(temporary, this.#path);
    });
    // The next save waits for this one, whether it worked or not; the caller sees its own result.
    this.#writing = write.catch(() => {});
    return write;
  }

  #read(): Promise<Map<string, string>> {
    this.#positions ??= readFile(this.#path, 'utf8').then(
      (text) => {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          throw new Error(`${this.#path} does not hold positions`);
        }
        const entries = Object.entries(parsed).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string',
        );
        return new Map(entries);
      },
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return new Map<string, string>();
        throw err;
      },
    );
    // A failed read is not remembered: the next call tries the file again.
    this.#positions.catch(() => {
      this.#positions = undefined;
    });
    return this.#positions;
  }
}
