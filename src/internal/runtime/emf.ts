/**
 * CloudWatch Embedded Metric Format: one JSON log line turns into metrics,
 * no PutMetricData call (and no permission) needed.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

import { METRIC_NAMESPACE } from '../../contract/names';

export type MetricUnit = 'Count' | 'Seconds' | 'None' | 'Milliseconds';

export interface MetricValue {
  readonly name: string;
  readonly value: number;
  readonly unit: MetricUnit;
}

/**
 * The EMF document for `metrics` under `dimensions` (each dimension set is
 * published separately, so `[['Dispatcher'], ['Dispatcher', 'Outcome']]`
 * gives a total and a per-outcome series).
 */
export function emfDocument(
  dimensions: Record<string, string>,
  dimensionSets: string[][],
  metrics: MetricValue[],
  properties: Record<string, unknown> = {},
  timestamp = Date.now(),
): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    ...properties,
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{
        Namespace: METRIC_NAMESPACE,
        Dimensions: dimensionSets,
        Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
      }],
    },
    ...dimensions,
  };
  for (const m of metrics) doc[m.name] = m.value;
  return doc;
}

/** Writes an EMF line (Lambda sends stdout to CloudWatch Logs). */
export function emitMetrics(...args: Parameters<typeof emfDocument>): void {
  const metrics = args[2];
  if (metrics.length === 0) return;
  console.log(JSON.stringify(emfDocument(...args)));
}
