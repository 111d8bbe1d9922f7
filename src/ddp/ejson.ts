/**
 * EJSON, the JSON dialect of DDP (Meteor's DDP.md appendix). Rocket.Chat puts every date on the
 * wire as `{"$date": <ms>}`; binary, escapes, NaN/Infinity and regexps are rare but legal.
 *
 * Two decoders, because the two consumers want different things: method results become plain JS
 * values with real `Date`s, while stream events are normalized straight to ISO-8601 strings
 * (the gateway's envelope format) in the one walk the normalizer makes anyway.
 */

type DateMapper = (ms: number) => unknown;

const toDate: DateMapper = (ms) => new Date(ms);
/** Out of `Date`'s range (±8.64e15 ms) gives `null`, as `JSON.stringify(new Date(NaN))` does: a
 * garbage date from upstream must not throw `RangeError` out of the walk. */
const toIsoString: DateMapper = (ms) => {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
};

/** Sets `key` as an own data property even when it is `__proto__` (plain assignment would
 * replace the object's prototype instead). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeSpecial(obj: Record<string, unknown>, mapDate: DateMapper): { hit: boolean; value?: unknown } {
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const key = keys[0];
    switch (key) {
      case '$date':
        return typeof obj.$date === 'number' ? { hit: true, value: mapDate(obj.$date) } : { hit: false };
      case '$binary':
        return typeof obj.$binary === 'string'
          ? { hit: true, value: Buffer.from(obj.$binary, 'base64') }
          : { hit: false };
      case '$InfNaN': {
        const sign = obj.$InfNaN;
        return { hit: true, value: sign === 0 ? Number.NaN : sign === 1 ? Infinity : -Infinity };
      }
      case '$escape':
        // The escaped object is literal: its keys are not EJSON, but its values are.
        if (isPlainObject(obj.$escape)) {
          const out: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(obj.$escape)) setOwn(out, k, decodeWith(v, mapDate));
          return { hit: true, value: out };
        }
        return { hit: false };
      default:
        return { hit: false };
    }
  }
  if (keys.length === 2 && typeof obj.$regexp === 'string' && typeof obj.$flags === 'string') {
    // An invalid pattern or flag set stays as the literal object rather than throwing.
    try {
      return { hit: true, value: new RegExp(obj.$regexp, obj.$flags) };
    } catch {
      return { hit: false };
    }
  }
  if (keys.length === 2 && typeof obj.$type === 'string' && '$value' in obj) {
    // Custom types are not used by Rocket.Chat on the gateway's paths; keep them inspectable.
    return { hit: true, value: { $type: obj.$type, $value: decodeWith(obj.$value, mapDate) } };
  }
  return { hit: false };
}

function decodeWith(value: unknown, mapDate: DateMapper): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const decoded = decodeWith(item, mapDate);
      if (decoded !== item) {
        out ??= value.slice();
        out[i] = decoded;
      }
    }
    return out ?? value;
  }
  const obj = value as Record<string, unknown>;
  const special = decodeSpecial(obj, mapDate);
  if (special.hit) return special.value;
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const item = obj[key];
    const decoded = decodeWith(item, mapDate);
    if (decoded !== item) {
      out ??= { ...obj };
      out[key] = decoded;
    }
  }
  return out ?? obj;
}

/** EJSON -> JS with `Date` objects. Returns the input itself when nothing needed decoding. */
export function decodeEjson(value: unknown): unknown {
  return decodeWith(value, toDate);
}

/** EJSON -> plain JSON with dates as ISO-8601 strings (the gateway's event format). */
export function ejsonToJson(value: unknown): unknown {
  return decodeWith(value, toIsoString);
}

/** JS -> EJSON: `Date` becomes `{$date}`, `Buffer`/`Uint8Array` `{$binary}`, non-finite numbers `{$InfNaN}`. */
export function encodeEjson(value: unknown): unknown {
  if (value instanceof Date) return { $date: value.getTime() };
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    return { $InfNaN: Number.isNaN(value) ? 0 : value > 0 ? 1 : -1 };
  }
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Uint8Array) return { $binary: Buffer.from(value).toString('base64') };
  if (value instanceof RegExp) return { $regexp: value.source, $flags: value.flags };
  if (Array.isArray(value)) return value.map(encodeEjson);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined) setOwn(out, k, encodeEjson(v));
  }
  // A literal object that looks like EJSON must be escaped, or the peer would decode it.
  return looksLikeEjson(out) ? { $escape: out } : out;
}

const SINGLE_KEY_TYPES = new Set(['$date', '$binary', '$InfNaN', '$escape']);

function looksLikeEjson(obj: Record<string, unknown>): boolean {
  const keys = Object.keys(obj);
  if (keys.length === 1) return SINGLE_KEY_TYPES.has(keys[0] as string);
  if (keys.length === 2) return ('$regexp' in obj && '$flags' in obj) || ('$type' in obj && '$value' in obj);
  return false;
}
