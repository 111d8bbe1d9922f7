/**
 * DDP publications: the `stream-*` streamers (RC streamer.module.ts `_publish`) and the special
 * stream-user-presence (RC app/notifications/server/lib/Presence.ts).
 */

import { MeteorError, matchFailed } from './meteor-error.js';
import type { Publication, PublicationContext, PublicationHandle, PublicationTable } from './method-types.js';
import { STREAM_READ_RULES } from './stream-access.js';
import type { StreamSubscription } from './stream-hub.js';

interface StreamOptions {
  useCollection: boolean;
  args: unknown[];
}

/** Options are `false`/`true` (legacy useCollection) or `{useCollection?, args?}`. */
function parseStreamOptions(options: unknown): StreamOptions {
  if (options === undefined || typeof options === 'boolean') {
    return { useCollection: options === true, args: [] };
  }
  if (options !== null && typeof options === 'object' && !Array.isArray(options)) {
    const { useCollection, args } = options as { useCollection?: unknown; args?: unknown };
    return { useCollection: useCollection === true, args: Array.isArray(args) ? args : [] };
  }
  throw matchFailed();
}

function streamPublication(stream: string): Publication {
  const canRead = STREAM_READ_RULES[stream];
  return (pc: PublicationContext, params: unknown[]): PublicationHandle => {
    const [eventName, rawOptions] = params;
    if (typeof eventName !== 'string') {
      throw matchFailed();
    }
    const options = parseStreamOptions(rawOptions);
    if (eventName.length === 0) {
      throw new MeteorError('invalid-event-name');
    }
    if (!canRead?.(pc.ctx, eventName, pc.userId, options.args)) {
      throw new MeteorError('not-allowed');
    }
    const sub: StreamSubscription = { sink: pc.connection, subId: pc.subId, stream, eventName };
    pc.ctx.hub.add(sub);
    const isFirstDoc = !pc.connection.addedDocs.has(stream);
    if (options.useCollection && (isFirstDoc || pc.connection.isStreamer)) {
      // Legacy collection compatibility: Meteor's merge box sends one `added` doc per connection
      // and stream; the streamer has no merge box and sends one per subscription.
      pc.connection.addedDocs.add(stream);
      pc.connection.send({ msg: 'added', collection: stream, id: 'id', fields: { eventName } });
    }
    return { stop: () => pc.ctx.hub.remove(sub) };
  };
}

/**
 * `["", {"added":[uid…],"removed":[uid…]}]`. The first such subscription of a connection stays and
 * receives `{"msg":"changed","collection":"stream-user-presence","id":<uid>,...}`; later ones only
 * edit its uid list and stop at once.
 */
const userPresence: Publication = (pc, params) => {
  if (pc.userId === null) {
    throw new MeteorError('not-allowed');
  }
  const options = params[1];
  const added = Array.isArray((options as { added?: unknown })?.added)
    ? (options as { added: unknown[] }).added
    : [];
  const removed = Array.isArray((options as { removed?: unknown })?.removed)
    ? (options as { removed: unknown[] }).removed
    : [];
  const connection = pc.connection;
  const state = connection.presenceWatch ?? { subs: new Map<string, StreamSubscription>() };
  const owner = connection.presenceWatch === undefined;
  connection.presenceWatch = state;
  for (const uid of added) {
    if (typeof uid === 'string' && !state.subs.has(uid)) {
      const sub: StreamSubscription = {
        sink: connection,
        subId: pc.subId,
        stream: 'stream-user-presence',
        eventName: uid,
      };
      state.subs.set(uid, sub);
      pc.ctx.hub.add(sub);
    }
  }
  for (const uid of removed) {
    const sub = typeof uid === 'string' ? state.subs.get(uid) : undefined;
    if (sub && typeof uid === 'string') {
      pc.ctx.hub.remove(sub);
      state.subs.delete(uid);
    }
  }
  if (!owner) {
    return { stop: () => {}, stoppedImmediately: true };
  }
  return {
    stop: () => {
      for (const sub of state.subs.values()) {
        pc.ctx.hub.remove(sub);
      }
      state.subs.clear();
      connection.presenceWatch = undefined;
    },
  };
};

export const PUBLICATIONS: PublicationTable = {
  ...Object.fromEntries(Object.keys(STREAM_READ_RULES).map((stream) => [stream, streamPublication(stream)])),
  'stream-user-presence': userPresence,
};
