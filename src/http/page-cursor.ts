/**
 * Opaque cursors for paged lists (`?cursor=`, answered by `nextCursor`). A cursor is the
 * position after the last item returned, as base64url JSON `{ l: list, p: position }`. It is
 * opaque to clients (they must not build one) but carries no authority: it only says where to
 * continue in a list the caller may read anyway, so it needs no signature. It is checked hard
 * all the same: a cursor that does not decode, names another list, or holds a position of the
 * wrong shape is `GW_ERR_VALIDATION` (400), never a 500 or a silently restarted list.
 */
import { createError, type GatewayError } from '../errors.js';

/** The lists that page; a cursor from one is refused by another. */
export type PagedList = 'webhooks' | 'hooks' | 'deliveries' | 'hook-requests';

/** Where a page ends: a sort key made of strings and integers. */
export type CursorPosition = readonly (string | number)[];

const MAX_CURSOR_LENGTH = 512;

export function encodeCursor(list: PagedList, position: CursorPosition): string {
  return Buffer.from(JSON.stringify({ l: list, p: position }), 'utf8').toString('base64url');
}

/**
 * The position in `raw` (a query value), or undefined when absent. `shape` lists the type of
 * each element of the position.
 */
export function decodeCursor(
  raw: unknown,
  list: PagedList,
  shape: readonly ('string' | 'integer')[],
): CursorPosition | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_CURSOR_LENGTH) throw badCursor();
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw badCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (parsed === null || typeof parsed !== 'object') throw badCursor();
  const { l, p } = parsed as { l?: unknown; p?: unknown };
  if (l !== list || !Array.isArray(p) || p.length !== shape.length) throw badCursor();
  shape.forEach((kind, i) => {
    const value: unknown = p[i];
    const ok =
      kind === 'string'
        ? typeof value === 'string' && value.length <= 200
        : typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
    if (!ok) throw badCursor();
  });
  return p as CursorPosition;
}

/** `?limit=`: an integer from 1 to `max`, `fallback` when absent. */
export function parsePageLimit(raw: unknown, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= max)) {
    throw createError('GW_ERR_VALIDATION', `limit must be an integer from 1 to ${max}`, {
      details: { field: 'limit' },
    });
  }
  return n;
}

/**
 * One page of a list sorted by `key` (ascending): the items after `after`, at most `limit`, and
 * the cursor of the next page (null on the last one).
 */
export function pageOf<T>(
  items: readonly T[],
  list: PagedList,
  key: (item: T) => CursorPosition,
  after: CursorPosition | undefined,
  limit: number,
): { items: T[]; nextCursor: string | null } {
  const start = after === undefined ? 0 : items.findIndex((item) => comparePositions(key(item), after) > 0);
  const rest = start < 0 ? [] : items.slice(start);
  const page = rest.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page,
    nextCursor: rest.length > limit && last !== undefined ? encodeCursor(list, key(last)) : null,
  };
}

function comparePositions(a: CursorPosition, b: CursorPosition): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function badCursor(): GatewayError {
  return createError(
    'GW_ERR_VALIDATION',
    'cursor is not valid here: pass nextCursor from the previous page',
    {
      details: { field: 'cursor' },
    },
  );
}
