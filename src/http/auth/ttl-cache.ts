/**
 * A bounded in-process cache whose entries expire: a `Map` kept in least-recently-used order (a
 * read moves the entry to the end), evicting from the front when full. Small on purpose: it holds
 * short-lived auth results, where a full LRU library would add a dependency for 40 lines.
 */
import type { Clock } from '../../clock.js';

export interface TtlCacheOptions {
  /** Entries kept at most; the least recently used goes first. */
  readonly maxEntries: number;
  /** How long an entry is served after it was set. */
  readonly ttlMs: number;
  readonly clock: Clock;
}

export class TtlCache<V> {
  readonly #entries = new Map<string, { readonly value: V; readonly expiresAtMs: number }>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #clock: Clock;

  constructor(options: TtlCacheOptions) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError('maxEntries must be a positive integer');
    }
    if (!(options.ttlMs > 0)) throw new RangeError('ttlMs must be positive');
    this.#maxEntries = options.maxEntries;
    this.#ttlMs = options.ttlMs;
    this.#clock = options.clock;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAtMs <= this.#clock.now()) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAtMs: this.#clock.now() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Removes every entry whose value matches. Linear: for rare events such as a logout. */
  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, entry] of this.#entries) {
      if (predicate(entry.value)) this.#entries.delete(key);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
