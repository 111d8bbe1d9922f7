/**
 * The setup most HTTP-level suites share: the Rocket.Chat simulator on a free port and the whole
 * gateway (`startTestGateway`) pointed at it and at the suite's private Redis, started once
 * before the file's tests and closed after them. Hooks the suite adds itself (a login, say) run
 * after these, in the order vitest registers them.
 */
import { afterAll, beforeAll, inject } from 'vitest';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../sim/index.js';
import type { PrometheusMetrics } from '../../src/metrics/index.js';
import { startTestGateway, type TestGateway } from './test-gateway.js';

export interface GatewayFixtureOptions {
  /** On top of `{ port: 0, rateLimits: false }`. */
  readonly simulator?: SimulatorOptions;
  /** Environment for the gateway, on top of the test defaults. */
  readonly env?: Record<string, string>;
  /** Real metrics, served at /metrics. @defaultValue no-op metrics */
  readonly metrics?: PrometheusMetrics;
}

/** Both parts, readable from the tests (and from the suite's own hooks) once started. */
export interface GatewayFixture {
  readonly sim: Simulator;
  readonly gw: TestGateway;
}

export function useGatewayFixture(options: GatewayFixtureOptions = {}): GatewayFixture {
  const fixture = {} as { sim: Simulator; gw: TestGateway };
  beforeAll(async () => {
    fixture.sim = await startSimulator({ port: 0, rateLimits: false, ...options.simulator });
    fixture.gw = await startTestGateway({
      redisUrl: inject('redisUrl'),
      rocketchatUrl: fixture.sim.url,
      ...(options.env ? { env: options.env } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
  });
  afterAll(async () => {
    await fixture.gw?.close();
    await fixture.sim?.close();
  });
  return fixture;
}
