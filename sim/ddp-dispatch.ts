/**
 * Execution of queued DDP messages: `method` → `result` + `updated`, `sub` → `ready`/`nosub`,
 * `unsub` → `nosub`, and the user switch performed by login/logout (Meteor `_setUserId`), each
 * as the connection's flavor does it (docs/simulator-protocol.md).
 */

import type { DdpConnection } from './ddp-connection.js';
import { fromEJSONValue } from './ejson.js';
import { STREAMER_CLOSE } from './flavor.js';
import { MeteorError, toMeteorError, tooManyRequests } from './meteor-error.js';
import type { MethodInvocation, PublicationHandle } from './method-types.js';
import { METHODS } from './methods.js';
import { PUBLICATIONS } from './publications.js';
import { publishedUserFields } from './user-views.js';

export interface SubscriptionRecord {
  readonly name: string;
  readonly params: unknown[];
  handle: PublicationHandle;
  /** The streamer runs a repeated sub id again: the earlier copy, still live (one unsub each). */
  readonly previous?: SubscriptionRecord;
}

function sendResult(
  conn: DdpConnection,
  id: string,
  outcome: { result?: unknown; error?: MeteorError },
): void {
  const result: Record<string, unknown> = { msg: 'result', id };
  if (outcome.error) {
    result['error'] = conn.errorWire(outcome.error);
  } else if (conn.isStreamer ? outcome.result : outcome.result !== undefined) {
    // The streamer sends `...(result && {result})`: false, 0, "" and null vanish too.
    result['result'] = outcome.result;
  }
  const updated = { msg: 'updated', methods: [id] };
  if (conn.ctx.options.updatedBeforeResult && !conn.isStreamer) {
    conn.send(updated);
    conn.send(result);
  } else {
    conn.send(result);
    conn.send(updated);
  }
}

function rateLimitError(
  conn: DdpConnection,
  type: 'method' | 'subscription',
  name: string,
): MeteorError | undefined {
  const reply = conn.ctx.ddpLimiter.consume({
    type,
    name,
    userId: conn.userId,
    connectionId: conn.connectionId,
    clientAddress: conn.remoteAddress,
  });
  return reply.allowed ? undefined : tooManyRequests(reply.timeToReset);
}

function recordInternal(conn: DdpConnection, err: unknown): void {
  if (!(err instanceof MeteorError)) {
    conn.ctx.stats.internalErrors += 1;
    conn.ctx.stats.lastInternalError = err instanceof Error ? (err.stack ?? err.message) : String(err);
  }
}

export async function handleMethod(conn: DdpConnection, msg: Record<string, unknown>): Promise<void> {
  const { id, method, params, randomSeed } = msg;
  if (
    typeof id !== 'string' ||
    typeof method !== 'string' ||
    ('params' in msg && !Array.isArray(params)) ||
    ('randomSeed' in msg && typeof randomSeed !== 'string')
  ) {
    conn.sendError('Malformed method invocation', msg);
    return;
  }
  const handler = METHODS[method];
  if (!handler) {
    sendResult(conn, id, { error: new MeteorError(404, `Method '${method}' not found`) });
    return;
  }
  const limited = rateLimitError(conn, 'method', method);
  if (limited) {
    sendResult(conn, id, { error: limited });
    return;
  }
  const invocation: MethodInvocation = {
    ctx: conn.ctx,
    connection: conn,
    userId: conn.userId,
    setUserId: (userId, token) => changeUser(conn, userId, token),
  };
  try {
    const delayMs = conn.ctx.faults.methodDelayMs(method);
    if (delayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    const result = await handler(invocation, (fromEJSONValue(params ?? []) as unknown[]) ?? []);
    if (!conn.isClosed) {
      sendResult(conn, id, { result });
    }
    if (method === 'logout' && conn.isStreamer) {
      // RC ddp-streamer methods/accounts.ts: the socket goes once the result is out.
      conn.close(STREAMER_CLOSE.protocolError);
    }
  } catch (err) {
    recordInternal(conn, err);
    sendResult(conn, id, { error: toMeteorError(err) });
  }
}

function startPublication(
  conn: DdpConnection,
  subId: string,
  name: string,
  params: unknown[],
): PublicationHandle {
  const publication = PUBLICATIONS[name];
  if (!publication) {
    throw new MeteorError(404, `Subscription '${name}' not found`);
  }
  return publication({ ctx: conn.ctx, connection: conn, subId, userId: conn.userId }, params);
}

export function handleSub(conn: DdpConnection, msg: Record<string, unknown>): void {
  const { id, name, params } = msg;
  if (typeof id !== 'string' || typeof name !== 'string' || ('params' in msg && !Array.isArray(params))) {
    conn.sendError('Malformed subscription', msg);
    return;
  }
  if (!PUBLICATIONS[name]) {
    conn.send({
      msg: 'nosub',
      id,
      error: conn.errorWire(new MeteorError(404, `Subscription '${name}' not found`)),
    });
    return;
  }
  const previous = conn.subs.get(id);
  if (previous && !conn.isStreamer) {
    // Meteor ignores a sub whose id is already active on this connection; the streamer runs it
    // again (a second `ready`, and every event twice).
    return;
  }
  const limited = rateLimitError(conn, 'subscription', name);
  if (limited) {
    conn.send({ msg: 'nosub', id, error: conn.errorWire(limited) });
    return;
  }
  const decoded = (fromEJSONValue(params ?? []) as unknown[]) ?? [];
  try {
    const handle = startPublication(conn, id, name, decoded);
    if (handle.stoppedImmediately) {
      conn.send({ msg: 'nosub', id });
      return;
    }
    conn.subs.set(id, { name, params: decoded, handle, ...(previous && { previous }) });
    conn.send({ msg: 'ready', subs: [id] });
  } catch (err) {
    recordInternal(conn, err);
    conn.send({ msg: 'nosub', id, error: conn.errorWire(toMeteorError(err)) });
  }
}

export function handleUnsub(conn: DdpConnection, msg: Record<string, unknown>): void {
  const { id } = msg;
  if (typeof id !== 'string') {
    conn.sendError('Malformed unsubscription', msg);
    return;
  }
  const record = conn.subs.get(id);
  if (record) {
    record.handle.stop();
    if (record.previous) {
      conn.subs.set(id, record.previous);
    } else {
      conn.subs.delete(id);
    }
  }
  // Meteor answers every unsub with a nosub (no error), even for an unknown id; the streamer
  // answers only the unsub of a live subscription.
  if (record || !conn.isStreamer) {
    conn.send({ msg: 'nosub', id });
  }
}

/**
 * Meteor `_setUserId`: re-runs every subscription as the new user (failures → `nosub` with error,
 * at once), then the `users` collection diff, then one `ready` for the re-run subscriptions.
 */
export function changeUser(conn: DdpConnection, userId: string | null, token: string | null): void {
  const previous = conn.userId;
  conn.token = token;
  if (previous === userId) {
    return;
  }
  conn.userId = userId;
  const { ctx } = conn;
  if (previous) {
    ctx.presence.connectionGone(previous, conn.connectionId);
  }
  if (userId) {
    ctx.presence.connectionLoggedIn(userId, conn.connectionId);
  }
  if (conn.isStreamer) {
    // No `users` collection and no re-run: subs made before login stay as they were.
    return;
  }
  const rerun: string[] = [];
  for (const [subId, record] of [...conn.subs]) {
    record.handle.stop();
    try {
      record.handle = startPublication(conn, subId, record.name, record.params);
      rerun.push(subId);
    } catch (err) {
      conn.subs.delete(subId);
      conn.send({ msg: 'nosub', id: subId, error: conn.errorWire(toMeteorError(err)) });
    }
  }
  if (previous) {
    conn.send({ msg: 'removed', collection: 'users', id: previous });
  }
  const user = userId ? ctx.store.userById(userId) : undefined;
  if (user) {
    conn.send({ msg: 'added', collection: 'users', id: user._id, fields: publishedUserFields(user) });
  }
  if (rerun.length > 0) {
    conn.send({ msg: 'ready', subs: rerun });
  }
}
