/**
 * The message the event log publishes on a user's live channel: a first line with the user's
 * webhook version as the append read it, the event's SSE frame, then the room id,
 * `wv:<version>\nid: <id>\nevent: <type>\ndata: <envelope>\n\n<roomId>`. The header fields travel
 * beside the envelope, so a listener routes an event with a few `indexOf`s and writes the frame
 * to its clients as is: nothing is parsed or serialized again per event, let alone per client.
 *
 * The envelope is JSON and never holds a raw line break (JSON escapes them), so the first blank
 * line ends the frame; whatever follows it, line breaks included, is the room id. The version
 * comes first so that replicas from before it refuse the message (it does not start with `id: `)
 * rather than read it into the room id: a refused live event is read from the log later (see
 * docs/deployment.md), a misrouted one would be skipped.
 */
import type { GatewayEventType } from './types.js';

/** What listeners need to route an event and send it, without parsing it again. */
export interface LiveEvent {
  readonly id: string;
  readonly type: GatewayEventType;
  readonly userId: string;
  readonly roomId: string | undefined;
  /** The serialized envelope, byte for byte as logged. */
  readonly json: string;
  /** `id: ...\nevent: ...\ndata: <json>\n\n`, ready to write to any SSE client. */
  readonly frame: string;
  /**
   * The user's webhook version when the event was logged ('' before any webhook change), read in
   * the same script as the append; undefined when the publisher did not say (earlier versions).
   */
  readonly webhookVersion?: string | undefined;
}

/**
 * The frame and webhook version are kept in private fields: the event compares and prints as its
 * routing fields.
 */
class ParsedLiveEvent implements LiveEvent {
  readonly id: string;
  readonly type: GatewayEventType;
  readonly userId: string;
  readonly roomId: string | undefined;
  readonly json: string;
  readonly #frame: string;
  readonly #webhookVersion: string | undefined;

  constructor(
    id: string,
    type: GatewayEventType,
    userId: string,
    roomId: string | undefined,
    json: string,
    frame: string,
    webhookVersion: string | undefined,
  ) {
    this.id = id;
    this.type = type;
    this.userId = userId;
    this.roomId = roomId;
    this.json = json;
    this.#frame = frame;
    this.#webhookVersion = webhookVersion;
  }

  get frame(): string {
    return this.#frame;
  }

  get webhookVersion(): string | undefined {
    return this.#webhookVersion;
  }
}

const ID_FIELD = 'id: ';
const EVENT_FIELD = 'event: ';
const DATA_FIELD = 'data: ';
const VERSION_FIELD = 'wv:';

/**
 * The event in a live message for `userId`, or undefined for anything else (only the event log
 * publishes here, but anyone with Redis access could, and a subscriber handler must not throw).
 * Messages in the forms of earlier versions (the envelope only; the frame without the version
 * line) are still read, so replicas of both versions can run side by side during a rolling upgrade.
 */
export function parseLiveMessage(userId: string, message: string): LiveEvent | undefined {
  if (message.charCodeAt(0) === 123 /* { */) return fromEnvelope(userId, message);
  let start = 0;
  let webhookVersion: string | undefined;
  if (message.startsWith(VERSION_FIELD)) {
    const versionEnd = message.indexOf('\n', VERSION_FIELD.length);
    if (versionEnd < 0) return undefined;
    webhookVersion = message.slice(VERSION_FIELD.length, versionEnd);
    start = versionEnd + 1;
  }
  if (!message.startsWith(ID_FIELD, start)) return undefined;
  const idEnd = message.indexOf('\n', start + ID_FIELD.length);
  if (idEnd < 0 || !message.startsWith(EVENT_FIELD, idEnd + 1)) return undefined;
  const typeStart = idEnd + 1 + EVENT_FIELD.length;
  const typeEnd = message.indexOf('\n', typeStart);
  if (typeEnd < 0 || !message.startsWith(DATA_FIELD, typeEnd + 1)) return undefined;
  const jsonStart = typeEnd + 1 + DATA_FIELD.length;
  const jsonEnd = message.indexOf('\n\n', jsonStart);
  if (jsonEnd < 0) return undefined;
  const roomId = message.slice(jsonEnd + 2);
  return new ParsedLiveEvent(
    message.slice(start + ID_FIELD.length, idEnd),
    message.slice(typeStart, typeEnd) as GatewayEventType,
    userId,
    roomId === '' ? undefined : roomId,
    message.slice(jsonStart, jsonEnd),
    message.slice(start, jsonEnd + 2),
    webhookVersion,
  );
}

function fromEnvelope(userId: string, json: string): LiveEvent | undefined {
  let head: { id?: unknown; type?: unknown; roomId?: unknown } | null;
  try {
    head = JSON.parse(json);
  } catch {
    return undefined;
  }
  // A line break anywhere would let the message add SSE fields of its own.
  if (
    typeof head?.id !== 'string' ||
    typeof head.type !== 'string' ||
    /[\r\n]/.test(json + head.id + head.type)
  )
    return undefined;
  const type = head.type as GatewayEventType;
  const roomId = typeof head.roomId === 'string' ? head.roomId : undefined;
  return new ParsedLiveEvent(
    head.id,
    type,
    userId,
    roomId,
    json,
    `id: ${head.id}\nevent: ${type}\ndata: ${json}\n\n`,
    undefined,
  );
}
