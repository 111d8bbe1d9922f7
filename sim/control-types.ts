/**
 * Types of the control API (inputs, results, errors).
 */
import type { UserStatus } from './types.js';

export class SimControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SimControlError';
  }
}

export interface CreateUserInput {
  username: string;
  password: string;
  name?: string;
  email?: string;
  /** Global roles. @defaultValue ['user'] */
  roles?: string[];
}

export interface CreateRoomInput {
  name?: string;
  t: 'c' | 'p' | 'd';
  members: string[];
  /** Owner username (channels and groups). @defaultValue the first member */
  owner?: string;
  readOnly?: boolean;
}

export interface PostMessageExtra {
  _id?: string;
  tmid?: string;
  tshow?: boolean;
  alias?: string;
  emoji?: string;
  avatar?: string;
  attachments?: unknown[];
  customFields?: Record<string, unknown>;
}

export interface SimUserInfo {
  _id: string;
  username: string;
  name: string;
  status: UserStatus;
}

export interface SimStatsSnapshot {
  connections: number;
  sessions: {
    connectionId: string;
    session?: string;
    userId: string | null;
    username?: string;
    subscriptions: number;
  }[];
  loginAttempts: Record<string, { ddp: number; rest: number; failed: number }>;
  frames: { in: number; out: number };
  /** REST calls per client address (after `httpForwardedCount`) and how many were refused with 429. */
  restClients: Record<string, { calls: number; refused: number }>;
  internalErrors: number;
  lastInternalError?: string;
}
