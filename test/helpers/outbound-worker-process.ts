/**
 * A worker process for the outbound crash test: the real core (`createCore`, role `worker`) and
 * real outbound sending, configured from the environment like the gateway. Prints
 * `outbound worker ready` once it takes jobs.
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

const outbound = createOutboundQueue(core);
const sending = startCoreOutboundSending(core, outbound);
await sending.waitUntilReady();
process.stdout.write('outbound worker ready\n');
