/**
 * Remembers what was computed from a frozen object, by identity. A frozen value cannot change,
 * so whatever was derived from it once holds for every later caller: the frames that a worker's
 * sessions share (src/ddp/shared-frame-decoder.ts) are decoded, normalized and serialized once
 * instead of once per session. What is derived from a shared value is shared too, so it is
 * frozen in turn (and can key the next memo). Anything else (primitives, objects that are not
 * frozen) is computed every time, as without the memo. Entries live as long as their key does.
 */
import { deepFreeze } from './deep-freeze.js';

export function frozenMemo<R>(compute: (value: unknown) => R): (value: unknown) => R {
  const remembered = new WeakMap<object, R>();
  return (value) => {
    if (typeof value !== 'object' || value === null || !Object.isFrozen(value)) return compute(value);
    if (remembered.has(value)) return remembered.get(value) as R;
    const result = deepFreeze(compute(value));
    remembered.set(value, result);
    return result;
  };
}
