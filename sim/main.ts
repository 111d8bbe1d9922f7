/**
 * `npm run sim -- --port 3100 [--host 127.0.0.1] [--flavor meteor|streamer]
 * [--heartbeat-interval-ms N] [--heartbeat-timeout-ms N] [--no-rate-limits] [--no-rest-rate-limit]
 * [--chatter-ms N]`
 *
 * Prints exactly one line when ready; SIGINT/SIGTERM close it cleanly. `--chatter-ms N` makes bob
 * post a short message in GENERAL every N ms (demo).
 */
import { parseArgs } from 'node:util';
import { isFlavor } from './flavor.js';
import { startSimulator } from './index.js';

function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) {
    throw new RangeError(`--${name} must be a non-negative number, got "${value}"`);
  }
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '3100' },
      host: { type: 'string', default: '127.0.0.1' },
      'heartbeat-interval-ms': { type: 'string' },
      'heartbeat-timeout-ms': { type: 'string' },
      'no-rate-limits': { type: 'boolean', default: false },
      'no-rest-rate-limit': { type: 'boolean', default: false },
      'chatter-ms': { type: 'string' },
      flavor: { type: 'string', default: 'meteor' },
    },
    strict: true,
  });
  const heartbeatIntervalMs = numberOption('heartbeat-interval-ms', values['heartbeat-interval-ms']);
  const heartbeatTimeoutMs = numberOption('heartbeat-timeout-ms', values['heartbeat-timeout-ms']);
  const chatterMs = numberOption('chatter-ms', values['chatter-ms']);
  const flavor = values.flavor;
  if (!isFlavor(flavor)) {
    throw new RangeError(`--flavor must be meteor or streamer, got "${flavor}"`);
  }
  const sim = await startSimulator({
    flavor,
    port: numberOption('port', values.port) ?? 3100,
    host: values.host,
    ...(heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs } : {}),
    ...(heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs } : {}),
    rateLimits: !values['no-rate-limits'],
    ...(values['no-rest-rate-limit'] ? { restRateLimit: false as const } : {}),
  });

  let chatter: NodeJS.Timeout | undefined;
  if (chatterMs) {
    let n = 0;
    chatter = setInterval(() => {
      n += 1;
      try {
        sim.control.postMessage('bob', 'GENERAL', `chatter ${n}`);
      } catch (err) {
        console.error('chatter failed:', err instanceof Error ? err.message : err);
      }
    }, chatterMs);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    clearInterval(chatter);
    sim.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`Rocket.Chat simulator: error while closing on ${signal}:`, err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  // One line, parsed by scripts and tests: the flavor is at GET /sim/flavor.
  console.log(`Rocket.Chat simulator listening: ${sim.url} (DDP ${sim.wsUrl}, control ${sim.url}/sim/)`);
}

main().catch((err: unknown) => {
  console.error('Rocket.Chat simulator failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
