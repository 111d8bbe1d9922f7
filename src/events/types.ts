/**
 * The gateway event: one envelope per Rocket.Chat stream event, the same bytes for SSE `data:`
 * and webhook bodies. `data` holds Rocket.Chat's own object with EJSON dates as ISO-8601 strings.
 */
export const EVENT_TYPES = [
  'message.created',
  'message.updated',
  'message.deleted',
  'message.ephemeral',
  'typing',
  'user.status',
  'room.changed',
  'subscription.changed',
  'notification',
  'session.unauthorized',
  'outbound.sent',
  'outbound.failed',
  'webhook.disabled',
  'webhook.test',
] as const;

export type GatewayEventType = (typeof EVENT_TYPES)[number];

export interface GatewayEvent {
  /** The event log entry id (Redis Stream id), e.g. `1732550000000-0`. */
  readonly id: string;
  readonly type: GatewayEventType;
  /** Whose session saw the event (the log it belongs to). */
  readonly userId: string;
  readonly roomId?: string;
  /** ISO-8601: when the gateway received it (for catch-up: when it was fetched). */
  readonly ts: string;
  readonly data: unknown;
}

/** An event before it is logged: the log assigns the id. */
export type NewGatewayEvent = Omit<GatewayEvent, 'id'> & {
  /**
   * For message events: the message id and its `_updatedAt` in ms, so the log can drop what it
   * already holds (catch-up overlapping live delivery, two subscriptions seeing one message).
   * `once`: `messageId` is any key, logged at most once whatever its version, and not a message
   * (no room watermark moves): an outbound outcome recorded by two workers is announced once.
   */
  readonly dedupe?: {
    readonly messageId: string;
    readonly updatedAtMs: number;
    readonly deleted?: boolean;
    readonly once?: boolean;
  };
};
