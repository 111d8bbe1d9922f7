/** The current value of one series of a metric in a metrics registry (0 when it has none yet). */
import type { PrometheusMetrics } from '../../src/metrics/prometheus-metrics.js';

export async function metricValue(
  metrics: PrometheusMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  const values = (await metric?.get())?.values ?? [];
  const match = values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return match?.value ?? 0;
}
