/**
 * What an SSE stream no longer needs once its response head is sent, dropped so an idle stream
 * holds little more than its socket (bench/RESULTS.md, memory per idle SSE connection):
 * - the request's headers (the bearer token alone is a few hundred bytes, and kept twice: raw and
 *   parsed);
 * - Express's parsed URL (`req.path` parses it again if the request's log line asks);
 * - the response's header table: the head is already on the wire and kept as sent
 *   (`_header`, what `headersSent` reads). Node keeps the table in a property under a private
 *   symbol with no public way to drop it; when that symbol is not found (another Node version),
 *   the table simply stays.
 */
import type { Request, Response } from 'express';

let outHeadersSymbol: symbol | null | undefined;

function findOutHeadersSymbol(res: Response): symbol | null {
  outHeadersSymbol ??=
    Object.getOwnPropertySymbols(res).find((symbol) => symbol.description === 'kOutHeaders') ?? null;
  return outHeadersSymbol;
}

export function shedRequestState(req: Request, res: Response): void {
  if (!res.headersSent) return;
  req.headers = {};
  req.rawHeaders = [];
  (req as { _parsedUrl?: unknown })._parsedUrl = undefined;
  const symbol = findOutHeadersSymbol(res);
  if (symbol) (res as unknown as Record<symbol, unknown>)[symbol] = null;
}
