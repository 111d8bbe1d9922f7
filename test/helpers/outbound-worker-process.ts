/**
 * A worker process for the outbound crash tests: the real core (`createCore`, role `worker`)
 * and real outbound sending, configured from the environment like the gateway. Prints
 * `outbound worker ready` once it takes jobs. With `OUTBOUND_TEST_REPORT_SENT=1` it prints
 * `SENT <messageId>` whenever a `sendMessage` answer arrives on its session, before the outcome
 * is recorded, so a test can `kill -9` it with answers received and not yet recorded.
 */
import { loadConfig } from '../../src/config/index.js';
import { isWorker } from '../../src/features/feature.js';
import { createOutboundQueue, startCoreOutboundSending } from '../../src/features/messages-feature.js';
import { createCore } from '../../src/gateway.js';
import { createLogger } from '../../src/log/index.js';
import { createNoopMetrics } from '../../src/metrics/index.js';

const config = loadConfig();
const logger = createLogger({ level: config.log.level, base: { workerId: config.workerId } });
const core = createCore({ config, logger, metrics: createNoopMetrics() });
if (!isWorker(core)) throw new Error('GATEWAY_ROLE must be worker or all');
await core.calls.start();
await core.pool.start();

if (process.env.OUTBOUND_TEST_REPORT_SENT === '1') {
  // Every session this worker starts reports its sendMessage answers as they arrive.
  const { pool } = core;
  const original = pool.ensureSession.bind(pool);
  const reported = new WeakSet<object>();
  const report = (session: Awaited<ReturnType<typeof original>>): void => {
    if (!session || reported.has(session)) return;
    reported.add(session);
    const call = session.call.bind(session);
    session.call = (async (method: string, params: readonly unknown[], timeoutMs?: number) => {
      const result = await call(method, params, timeoutMs);
      if (method === 'sendMessage')
        process.stdout.write(`SENT ${String((result as { _id?: unknown } | undefined)?._id)}\n`);
      return result;
    }) as typeof session.call;
  };
  setInterval(() => {
    for (const userId of process.env.OUTBOUND_TEST_USERS?.split(',') ?? []) report(pool.session(userId));
  }, 5).unref();
}

const outbound = createOutboundQueue(core);
const sending = startCoreOutboundSending(core, outbound);
await sending.waitUntilReady();
process.stdout.write('outbound worker ready\n');
