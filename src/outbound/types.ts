/**
 * What an outbound job carries through the queue and what it reports. A job is one change to
 * Rocket.Chat on behalf of one user: a new message, an edit, a deletion or a reaction. All four
 * travel the same lane (user + room), so an edit can never overtake the message it edits.
 */
import type { GatewayErrorCode } from '../errors.js';

export type OutboundKind = 'send' | 'edit' | 'delete' | 'reaction';

/** `queued` until the outcome is final, then `sent` or `failed`. */
export type OutboundStatus = 'queued' | 'sent' | 'failed';

export interface SendPayload {
  readonly text: string;
  /** Rocket.Chat `tmid`: the thread's root message. */
  readonly threadId?: string;
  readonly alias?: string;
  readonly emoji?: string;
  readonly attachments?: readonly unknown[];
}

interface JobBase {
  /** Data format version, so a deploy can tell old jobs apart. */
  readonly v: 1;
  readonly userId: string;
  readonly roomId: string;
  /** The Rocket.Chat message: fixed at accept time for a send, the target for the others. */
  readonly messageId: string;
  /** SHA-256 of the request (kind, target, body): a reused Idempotency-Key with another body is a conflict. */
  readonly requestHash: string;
  readonly acceptedAtMs: number;
  /** Unique per accepted request: tells the request that created the job from a concurrent repeat. */
  readonly acceptId: string;
}

export type OutboundJobData =
  | (JobBase & { readonly kind: 'send'; readonly send: SendPayload })
  | (JobBase & { readonly kind: 'edit'; readonly text: string })
  | (JobBase & { readonly kind: 'delete' })
  | (JobBase & { readonly kind: 'reaction'; readonly emoji: string; readonly shouldReact: boolean });

/** The request before the queue gives it an id (and, for a send, a message id). */
export type OutboundRequest =
  | { readonly kind: 'send'; readonly roomId: string; readonly send: SendPayload }
  | { readonly kind: 'edit'; readonly roomId: string; readonly messageId: string; readonly text: string }
  | { readonly kind: 'delete'; readonly roomId: string; readonly messageId: string }
  | {
      readonly kind: 'reaction';
      readonly roomId: string;
      readonly messageId: string;
      readonly emoji: string;
      readonly shouldReact: boolean;
    };

/** Why a job failed, as the caller sees it (GET /v1/messages/:id and the `outbound.failed` event). */
export interface OutboundError {
  readonly code: GatewayErrorCode;
  readonly message: string;
  /** Rocket.Chat's own error code, when it gave one. */
  readonly upstreamError?: string | number;
}

export type OutboundOutcome =
  | { readonly status: 'sent' }
  | { readonly status: 'failed'; readonly error: OutboundError };

/** A job as the HTTP API shows it. */
export interface OutboundJobView {
  readonly id: string;
  readonly messageId: string;
  readonly status: OutboundStatus;
  readonly error?: OutboundError;
}
