/**
 * The only clock the DDP client uses, injectable so unit tests can move time by hand. Kept
 * structural (no import from the rest of the gateway) so `src/ddp` stands on its own; the
 * gateway's `Clock` satisfies it.
 */
export interface DdpTimers {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: DdpTimers = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => {
    const handle = setTimeout(callback, delayMs);
    // A DDP client must never be the reason a process cannot exit.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};
