/**
 * Argument checks shared by method implementations (Meteor `check` → `400 Match failed`).
 */

import { MeteorError, matchFailed } from './meteor-error.js';
import type { MethodInvocation } from './method-types.js';
import type { SimRoom, SimUser } from './types.js';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function checkString(value: unknown): string {
  if (typeof value !== 'string') {
    throw matchFailed();
  }
  return value;
}

export function checkOptionalString(value: unknown): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  return checkString(value);
}

export function checkOptionalBoolean(value: unknown): boolean | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'boolean') {
    throw matchFailed();
  }
  return value;
}

export function checkStringArray(value: unknown): string[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw matchFailed();
  }
  return value as string[];
}

/** The caller, or RC's usual `error-invalid-user` / "Invalid user" with `{method}` details. */
export function requireUser(invocation: MethodInvocation, method: string): SimUser {
  const user = invocation.userId ? invocation.ctx.store.userById(invocation.userId) : undefined;
  if (!user) {
    throw new MeteorError('error-invalid-user', 'Invalid user', { method });
  }
  return user;
}

export function requireRoom(invocation: MethodInvocation, rid: string, method: string): SimRoom {
  const room = invocation.ctx.store.room(rid);
  if (!room) {
    throw new MeteorError('error-invalid-room', 'Invalid room', { method });
  }
  return room;
}
