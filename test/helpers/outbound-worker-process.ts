/**
 * A worker process for the outbound crash test: the real core (`createCore`) and a real
 * `OutboundWorker`, configured from the environment like the gateway. With
 * `OUTBOUND_TEST_HANG_AFTER_SEND=1` it prints `SENT <messageId>` as soon as a `sendMessage` has
 * returned and then never finishes that job, so the test can `kill -9` it between sending and
 * acknowledging. (src/gateway.ts does not run the outbound worker yet; once it does, the test
 * can spawn `GATEWAY_ROLE=worker` instead, keeping this hook.)
 */
import { loadConfig } from '../../src/config/index.js';
import { createCore } from '../../src/gateway.js';
import { createLogger } from '../../src/log/index.js';
import { createNoopMetrics } from '../../src/metrics/index.js';
import { OutboundQueue, OutboundWorker } from '../../src/outbound/index.js';
import type { CallRouter } from '../../src/sessions/call-router.js';

const config = loadConfig();
const logger = createLogger({ level: config.log.level, base: { workerId: config.workerId } });
const core = createCore({ config, logger, metrics: createNoopMetrics() });
await core.calls.start();
await core.pool?.start();

const hangAfterSend = process.env.OUTBOUND_TEST_HANG_AFTER_SEND === '1';
const calls: Pick<CallRouter, 'call'> = {
  call: async (userId, method, params, timeoutMs) => {
    const result = await core.calls.call(userId, method, params, timeoutMs);
    if (hangAfterSend && method === 'sendMessage') {
      process.stdout.write(`SENT ${String((result as { _id?: unknown } | undefined)?._id)}\n`);
      await new Promise(() => {});
    }
    return result;
  },
};

const outbound = new OutboundQueue({
  redis: core.redis,
  keys: core.keys,
  queuePrefix: config.redis.queuePrefix,
  maxAttempts: config.outbound.maxAttempts,
  rest: core.rest,
  credentials: core.credentials,
});
const worker = new OutboundWorker({
  outbound,
  connection: core.redis,
  queuePrefix: config.redis.queuePrefix,
  calls,
  credentials: core.credentials,
  rest: core.rest,
  eventLog: core.eventLog,
  consumers: core.consumers,
  ...(core.pool ? { pool: core.pool } : {}),
  concurrency: config.outbound.concurrency,
  lockDurationMs: Number(process.env.OUTBOUND_TEST_LOCK_MS ?? 30_000),
  // BullMQ runs one stalled check per interval across all workers (a shared key with that TTL):
  // every worker of a test must use the short interval, or the first one's long TTL wins.
  stalledIntervalMs: Number(process.env.OUTBOUND_TEST_STALLED_INTERVAL_MS ?? 30_000),
  logger,
});
await worker.waitUntilReady();
process.stdout.write('outbound worker ready\n');
