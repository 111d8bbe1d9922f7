/**
 * `GET /v1/webhooks/:id/stats`: the endpoint's counters (moved by the delivery ledger's finish
 * script) and its backlog, as the API shows them.
 */
import type { WebhookRecord } from './webhook-store.js';

/** `GET /v1/webhooks/:id/stats`. */
export interface WebhookStatsView {
  readonly attempts: { readonly total: number; readonly succeeded: number; readonly failed: number };
  /** succeeded / total, 0..1; null before the first attempt. */
  readonly successRate: number | null;
  readonly lastSuccessAt: string | null;
  readonly lastError: {
    readonly at: string;
    readonly error: string;
    readonly statusCode: number | null;
  } | null;
  /** Deliveries waiting for an attempt or a retry, and dead letters waiting for a replay. */
  readonly backlog: { readonly pending: number; readonly deadLetters: number };
  readonly consecutiveFailures: number;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

export function toStatsView(record: WebhookRecord, pending: number, deadLetters: number): WebhookStatsView {
  const { counters } = record;
  const total = counters.succeeded + counters.failed;
  return {
    attempts: { total, succeeded: counters.succeeded, failed: counters.failed },
    successRate: total === 0 ? null : Math.round((counters.succeeded / total) * 10_000) / 10_000,
    lastSuccessAt: iso(counters.lastSuccessAtMs),
    lastError:
      counters.lastErrorAtMs === undefined
        ? null
        : {
            at: new Date(counters.lastErrorAtMs).toISOString(),
            error: counters.lastError ?? '',
            statusCode: counters.lastErrorStatusCode ?? null,
          },
    backlog: { pending, deadLetters },
    consecutiveFailures: record.consecutiveFailures,
  };
}
