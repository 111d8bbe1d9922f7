/**
 * The simulator flavor a test run speaks to. The suites that exercise the DDP client, sessions,
 * catch-up and sends run once per flavor: vitest.config.ts lists them in a `streamer` project
 * that sets SIM_FLAVOR, and they start their simulator through `startTestSimulator`.
 */
import {
  FLAVORS,
  type Flavor,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../sim/index.js';

function flavorFromEnv(): Flavor {
  const value = process.env['SIM_FLAVOR'] ?? 'meteor';
  const flavor = FLAVORS.find((known) => known === value);
  if (!flavor) throw new Error(`SIM_FLAVOR must be one of ${FLAVORS.join(', ')} (got "${value}")`);
  return flavor;
}

export const SIM_FLAVOR: Flavor = flavorFromEnv();

/** A simulator on a free port in this run's flavor; `options` may still pick one explicitly. */
export function startTestSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ port: 0, flavor: SIM_FLAVOR, ...options });
}
