/**
 * Commands sent on a standalone client in one turn of the event loop leave in one socket write,
 * without ioredis' auto-pipelining.
 *
 * Why not auto-pipelining: each flush builds an ioredis `Pipeline`, whose constructor defines
 * `length` as an own accessor with a fresh closure (`Object.defineProperty(this, "length",
 * { get })`, ioredis 6.0 `Pipeline.js`). V8 allocates accessor pairs in old space, so from birth
 * every pipeline (through the getter's closure) and all it holds (its commands, their arguments,
 * the replies) is reachable from old space: young-generation collections keep it, copy it twice,
 * promote it, and only a full collection frees it. At a paced delivery rate that was most of what
 * each scavenge copied and most of its pause (bench/RESULTS.md, issue 18, seventh pass).
 *
 * Here the socket is corked at the first command of a turn and uncorked at the end of the turn
 * (`setImmediate`, where auto-pipelining flushed too): the turn's commands go out in one
 * `writev`, in the order they were sent, and no object outlives its reply. Commands sent while
 * the client is not ready take ioredis' offline queue as before.
 */
import type { Redis } from 'ioredis';

type Writable = Redis['stream'];

/** Makes `client` (standalone, auto-pipelining off) coalesce each turn's writes; returns it. */
export function coalesceWrites(client: Redis): Redis {
  const send = client.sendCommand;
  let corked: Writable | undefined;
  const uncork = (): void => {
    const stream = corked;
    corked = undefined;
    // A stream replaced by a reconnect meanwhile is uncorked all the same (harmless when closed).
    stream?.uncork();
  };
  client.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    const stream = this.stream;
    if (corked === undefined && this.status === 'ready' && stream?.writable) {
      corked = stream;
      stream.cork();
      setImmediate(uncork);
    }
    return send.apply(this, args);
  };
  return client;
}
