/**
 * Which Redis failures are worth trying again. A command that fails because Redis is away or
 * busy (connection closed, a cluster slot unserved, loading, out of memory, a script running
 * too long) may succeed in a moment; one Redis refused for what it is (`ERR` from a script or
 * bad arguments, `WRONGTYPE`, `NOPERM`) will fail the same way every time.
 *
 * `NOSCRIPT` is worth another try: a restarted node has lost its scripts, and ioredis, which
 * remembers per connection which scripts it loaded, forgets that one on the error and sends the
 * source next time (seen with a cluster master restarted under load).
 */
const PERMANENT_REPLY_PREFIXES = ['ERR', 'WRONGTYPE', 'NOPERM', 'EXECABORT'];

export function isRetryableRedisError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // ioredis names server replies `ReplyError`; everything else it throws is about the connection
  // (closed, too many redirections while a node is down, no node reachable).
  if (err.name !== 'ReplyError') return true;
  return !PERMANENT_REPLY_PREFIXES.some((prefix) => err.message.startsWith(prefix));
}
