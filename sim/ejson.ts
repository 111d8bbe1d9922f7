/**
 * Meteor EJSON as it crosses DDP (meteor/meteor packages/ejson; docs/simulator-protocol.md §1.6).
 *
 * DDP frames carry dates as `{"$date": ms}`; REST carries ISO strings (plain `JSON.stringify`).
 * Objects that merely look like EJSON are wrapped in `{"$escape": ...}` so they survive a round trip.
 */

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const SINGLE_KEY_TYPES = new Set(['$date', '$binary', '$InfNaN', '$escape']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') {
    return false;
  }
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** True when a literal object would be mistaken for an EJSON type and must be escaped. */
function looksLikeEjson(obj: Record<string, unknown>): boolean {
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    return SINGLE_KEY_TYPES.has(keys[0] ?? '');
  }
  if (keys.length === 2) {
    return ('$type' in obj && '$value' in obj) || ('$regexp' in obj && '$flags' in obj);
  }
  return false;
}

/** Converts a value to its EJSON JSON form (dates to `{$date}`, etc.). Undefined object members are dropped. */
export function toEJSONValue(value: unknown): JsonValue | undefined {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    return undefined;
  }
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) {
      return { $InfNaN: 0 };
    }
    if (!Number.isFinite(value)) {
      return { $InfNaN: value > 0 ? 1 : -1 };
    }
    return value;
  }
  if (typeof value === 'bigint') {
    return Number(value);
  }
  if (value instanceof Date) {
    return { $date: value.getTime() };
  }
  if (value instanceof Uint8Array) {
    return { $binary: Buffer.from(value).toString('base64') };
  }
  if (value instanceof RegExp) {
    return { $regexp: value.source, $flags: value.flags };
  }
  if (Array.isArray(value)) {
    // JSON turns undefined array slots into null; do the same explicitly.
    return value.map((item) => toEJSONValue(item) ?? null);
  }
  const source = value as Record<string, unknown>;
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(source)) {
    const converted = toEJSONValue(source[key]);
    if (converted !== undefined) {
      out[key] = converted;
    }
  }
  return isPlainObject(value) && looksLikeEjson(source) ? { $escape: out } : out;
}

/** Decodes EJSON JSON form into JS values (`{$date}` to Date, ...). Unknown `$type` values stay as they are. */
export function fromEJSONValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map(fromEJSONValue);
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    if (typeof obj['$date'] === 'number') {
      return new Date(obj['$date']);
    }
    if (typeof obj['$binary'] === 'string') {
      return new Uint8Array(Buffer.from(obj['$binary'], 'base64'));
    }
    if (typeof obj['$InfNaN'] === 'number') {
      const sign = obj['$InfNaN'];
      return sign === 0 ? Number.NaN : sign > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    }
    if (isPlainObject(obj['$escape'])) {
      const inner = obj['$escape'];
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(inner)) {
        out[key] = fromEJSONValue(inner[key]);
      }
      return out;
    }
  }
  if (keys.length === 2 && typeof obj['$regexp'] === 'string' && typeof obj['$flags'] === 'string') {
    return new RegExp(obj['$regexp'], obj['$flags']);
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    out[key] = fromEJSONValue(obj[key]);
  }
  return out;
}

/** `JSON.stringify` of the EJSON form: what goes into a DDP text frame. */
export function stringifyEJSON(value: unknown): string {
  return JSON.stringify(toEJSONValue(value) ?? null);
}
