/**
 * Contracts between the DDP dispatcher and method/publication implementations.
 */
import type { SimContext } from './context.js';
import type { DdpConnection } from './ddp-connection.js';

export interface MethodInvocation {
  readonly ctx: SimContext;
  readonly connection: DdpConnection;
  readonly userId: string | null;
  /** Meteor `this.setUserId`: re-runs the connection's subscriptions as that user. */
  setUserId(userId: string | null, token: string | null): void;
}

/** Returns the method result (undefined → no `result` key); throws MeteorError for errors. */
export type MethodHandler = (invocation: MethodInvocation, params: unknown[]) => unknown;

export type MethodTable = Readonly<Record<string, MethodHandler>>;

export interface PublicationContext {
  readonly ctx: SimContext;
  readonly connection: DdpConnection;
  readonly subId: string;
  readonly userId: string | null;
}

export interface PublicationHandle {
  stop(): void;
  /** The publication stopped itself at once (Meteor `this.stop()` before `ready()`): nosub, no ready. */
  readonly stoppedImmediately?: boolean;
}

/** Starts a publication; throws MeteorError to refuse it (sent as `nosub` with `error`). */
export type Publication = (context: PublicationContext, params: unknown[]) => PublicationHandle;

export type PublicationTable = Readonly<Record<string, Publication>>;
