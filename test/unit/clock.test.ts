import { describe, expect, it } from 'vitest';
import { createManualClock, delay, systemClock } from '../../src/clock.js';

describe('createManualClock', () => {
  it('stands still until advanced', () => {
    const clock = createManualClock(1000);
    expect(clock.now()).toBe(1000);
    clock.advance(250);
    expect(clock.now()).toBe(1250);
  });

  it('fires due timers in order of due time, then of creation, reading their own time', () => {
    const clock = createManualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`late@${clock.now()}`), 31);
    clock.advance(30);
    expect(fired).toEqual(['a@10', 'b@10', 'c@30']);
    expect(clock.now()).toBe(30);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(1);
    expect(fired.at(-1)).toBe('late@31');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fires timers set by callbacks within the same advance', () => {
    const clock = createManualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 5);
    }, 5);
    clock.advance(10);
    expect(fired).toEqual([5, 10]);
  });

  it('repeats intervals and stops them when cleared', () => {
    const clock = createManualClock();
    const fired: number[] = [];
    const interval = clock.setInterval(() => {
      fired.push(clock.now());
      if (fired.length === 3) clock.clearInterval(interval);
    }, 100);
    clock.advance(1000);
    expect(fired).toEqual([100, 200, 300]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('clears timeouts and ignores unknown handles', () => {
    const clock = createManualClock();
    let fired = false;
    const timer = clock.setTimeout(() => {
      fired = true;
    }, 10);
    clock.clearTimeout(timer);
    clock.clearTimeout(undefined);
    clock.advance(100);
    expect(fired).toBe(false);
  });

  it('treats delays Node would run after 1 ms the same way', () => {
    const clock = createManualClock();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 0);
    clock.setTimeout(() => fired.push(clock.now()), -5);
    clock.setTimeout(() => fired.push(clock.now()), 2 ** 31);
    clock.advance(0);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([1, 1, 1]);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });

  it('supports unref and ref like Node timers', () => {
    const handle = createManualClock().setTimeout(() => {}, 1);
    expect(handle.unref()).toBe(handle);
    expect(handle.ref().hasRef()).toBe(true);
  });

  it('lets awaiting code progress with advanceAsync', async () => {
    const clock = createManualClock();
    const ticks: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await delay(clock, 100);
        ticks.push(clock.now());
      }
    })();
    await clock.advanceAsync(300);
    await loop;
    expect(ticks).toEqual([100, 200, 300]);
  });
});

describe('delay', () => {
  it('rejects with the abort reason and clears its timer', async () => {
    const clock = createManualClock();
    const controller = new AbortController();
    const waiting = delay(clock, 1000, controller.signal);
    expect(clock.pendingTimers()).toBe(1);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    expect(clock.pendingTimers()).toBe(0);
    await expect(delay(clock, 10, controller.signal)).rejects.toThrow('stopped');
  });

  it('waits on the system clock', async () => {
    const started = systemClock.now();
    await delay(systemClock, 20);
    expect(systemClock.now() - started).toBeGreaterThanOrEqual(15);
  });
});

describe('systemClock', () => {
  it('runs and clears real timers', async () => {
    let fired = 0;
    const cleared = systemClock.setTimeout(() => fired++, 5);
    systemClock.clearTimeout(cleared);
    const interval = systemClock.setInterval(() => fired++, 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    systemClock.clearInterval(interval);
    const after = fired;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(after).toBeGreaterThan(0);
    expect(fired).toBe(after);
  });
});
