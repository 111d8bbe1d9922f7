/**
 * One decoding for every session that receives the same frame. Rocket.Chat serializes a stream
 * event once and writes the same text to each subscriber (its streamer, and the simulator's
 * StreamHub alike), so a worker holding N members of a room receives each message of it N
 * times, byte for byte, usually in the same turn. Decoded once, the copies share one message,
 * frozen from the second copy on: the EJSON walk and the serialization after it are then
 * remembered by identity too (frozen-memo.ts), and the garbage of N parsed trees is never made.
 */
import { deepFreeze } from '../deep-freeze.js';
import { type DecodeResult, decodeFrame, type FrameDecoder } from './codec.js';

export interface SharedFrameDecoderOptions {
  /** Distinct frames remembered, the oldest forgotten first. @defaultValue 64 */
  readonly frames?: number;
  /** Characters remembered in all (the frames are the map's keys). @defaultValue 4 Mi */
  readonly maxChars?: number;
}

/**
 * Frames larger than this are decoded per copy: a few huge frames would push out the many small
 * ones that the sharing is for.
 */
const MAX_SHARED_FRAME_CHARS = 256 * 1024;

export function sharedFrameDecoder(options: SharedFrameDecoderOptions = {}): FrameDecoder {
  const maxFrames = options.frames ?? 64;
  const maxChars = options.maxChars ?? 4 * 1024 * 1024;
  const remembered = new Map<string, DecodeResult>();
  let rememberedChars = 0;
  return (text) => {
    const known = remembered.get(text);
    if (known) {
      // Frozen when first shared, not when first seen: most frames reach one session only, and
      // the walk would cost them a third more. The first copy's handling, synchronous and done
      // by now, changed nothing (normalize.ts changes nothing it is given).
      if (!Object.isFrozen(known)) deepFreeze(known);
      return known;
    }
    const decoded = decodeFrame(text);
    // Only stream events are shared: results, pings and readies are each connection's own.
    if (!decoded.ok || decoded.message?.msg !== 'changed' || text.length > MAX_SHARED_FRAME_CHARS)
      return decoded;
    remembered.set(text, decoded);
    rememberedChars += text.length;
    for (const oldest of remembered.keys()) {
      if (remembered.size <= maxFrames && rememberedChars <= maxChars) break;
      remembered.delete(oldest);
      rememberedChars -= oldest.length;
    }
    return decoded;
  };
}
