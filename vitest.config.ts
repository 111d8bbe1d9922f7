import { defineConfig } from 'vitest/config';

/**
 * Suites that exercise the DDP client, sessions, catch-up and sends: they run a second time
 * against the simulator's `streamer` flavor (Rocket.Chat's ddp-streamer), through
 * test/helpers/sim-flavor.ts. Every suite runs against the default `meteor` flavor.
 */
const BOTH_FLAVORS = [
  'test/integration/ddp-client.test.ts',
  'test/integration/ddp-client-upstream-quirks.test.ts',
  'test/integration/session-pool.test.ts',
  'test/integration/sessions-takeover.test.ts',
  'test/integration/session-fencing.test.ts',
  'test/integration/outbound-messages.test.ts',
  'test/integration/methods-catalogue.test.ts',
  'test/integration/sse.test.ts',
  // Fidelity: Rocket.Chat's own client, @rocket.chat/ddp-client.
  'test/integration/sim-ddp-client.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    // Integration tests spawn processes and sockets; generous bounds for a loaded 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        // packages/client's own tests run here too, against a gateway they start (npm test runs them).
        test: { name: 'meteor', include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'streamer', include: BOTH_FLAVORS, env: { SIM_FLAVOR: 'streamer' } },
      },
    ],
  },
});
