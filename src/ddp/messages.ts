/**
 * DDP message shapes, as Meteor's DDP spec and Rocket.Chat's servers put them on the wire.
 * Values inside `params`, `result`, `fields` are EJSON (see ejson.ts).
 */

/** A Meteor.Error as serialized in `result.error` and `nosub.error`. */
export interface DdpErrorObject {
  readonly error: string | number;
  readonly reason?: string;
  readonly details?: unknown;
  readonly message?: string;
  readonly errorType?: string;
  readonly isClientSafe?: boolean;
}

export interface ConnectedMessage {
  readonly msg: 'connected';
  readonly session: string;
}
export interface FailedMessage {
  readonly msg: 'failed';
  readonly version?: string;
}
export interface PingMessage {
  readonly msg: 'ping';
  readonly id?: string;
}
export interface PongMessage {
  readonly msg: 'pong';
  readonly id?: string;
}
export interface ResultMessage {
  readonly msg: 'result';
  readonly id: string;
  /** Omitted by Meteor when the method returned undefined. */
  readonly result?: unknown;
  readonly error?: DdpErrorObject;
}
export interface UpdatedMessage {
  readonly msg: 'updated';
  readonly methods: readonly string[];
}
export interface ReadyMessage {
  readonly msg: 'ready';
  readonly subs: readonly string[];
}
export interface NosubMessage {
  readonly msg: 'nosub';
  readonly id: string;
  readonly error?: DdpErrorObject;
}
export interface AddedMessage {
  readonly msg: 'added';
  readonly collection: string;
  readonly id: string;
  readonly fields?: Record<string, unknown>;
}
export interface ChangedMessage {
  readonly msg: 'changed';
  readonly collection: string;
  readonly id: string;
  readonly fields?: Record<string, unknown>;
  readonly cleared?: readonly string[];
}
export interface RemovedMessage {
  readonly msg: 'removed';
  readonly collection: string;
  readonly id: string;
}
export interface ServerErrorMessage {
  readonly msg: 'error';
  readonly reason?: string;
  readonly offendingMessage?: unknown;
}

export type ServerMessage =
  | ConnectedMessage
  | FailedMessage
  | PingMessage
  | PongMessage
  | ResultMessage
  | UpdatedMessage
  | ReadyMessage
  | NosubMessage
  | AddedMessage
  | ChangedMessage
  | RemovedMessage
  | ServerErrorMessage;

/** Versions offered, newest first, exactly as @rocket.chat/ddp-client offers them. */
export const SUPPORTED_DDP_VERSIONS = ['1', 'pre2', 'pre1'] as const;
