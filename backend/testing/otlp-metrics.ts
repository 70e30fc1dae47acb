/**
 * OTLP/JSON metrics, decoded into one flat list of data points: what a test needs to check
 * names, units, attributes and values. (Protobuf metric bodies are counted, not decoded: the
 * tests that read metrics ask the server for `http/json`.)
 */
export interface ReceivedMetricPoint {
  name: string;
  unit: string;
  kind: 'histogram' | 'sum' | 'gauge' | 'exponentialHistogram';
  attributes: Record<string, unknown>;
  /** sum and gauge points */
  value?: number;
  /** histogram points */
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
  exemplars: Array<{ traceId?: string; spanId?: string; value?: number }>;
  resource: Record<string, unknown>;
  scope: string;
}

type Json = Record<string, unknown>;

function attributesOf(list: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const entry of (list as Json[] | undefined) ?? []) {
    const value = (entry.value ?? {}) as Json;
    const first = Object.values(value)[0];
    result[String(entry.key)] = typeof first === 'string' && 'intValue' in value ? Number(first) : first;
  }
  return result;
}

const num = (value: unknown): number | undefined => (value === undefined ? undefined : Number(value));

export function decodeMetricsJson(body: Buffer): ReceivedMetricPoint[] {
  const points: ReceivedMetricPoint[] = [];
  const request = JSON.parse(body.toString('utf8')) as Json;
  for (const rm of (request.resourceMetrics as Json[] | undefined) ?? []) {
    const resource = attributesOf((rm.resource as Json | undefined)?.attributes);
    for (const sm of (rm.scopeMetrics as Json[] | undefined) ?? []) {
      const scope = String((sm.scope as Json | undefined)?.name ?? '');
      for (const metric of (sm.metrics as Json[] | undefined) ?? []) {
        for (const kind of ['histogram', 'sum', 'gauge', 'exponentialHistogram'] as const) {
          const data = metric[kind] as Json | undefined;
          if (data === undefined) continue;
          for (const point of (data.dataPoints as Json[] | undefined) ?? []) {
            points.push({
              name: String(metric.name),
              unit: String(metric.unit ?? ''),
              kind,
              attributes: attributesOf(point.attributes),
              value: num(point.asDouble ?? point.asInt),
              count: num(point.count),
              sum: num(point.sum),
              bucketCounts: (point.bucketCounts as unknown[] | undefined)?.map(Number),
              explicitBounds: (point.explicitBounds as unknown[] | undefined)?.map(Number),
              exemplars: ((point.exemplars as Json[] | undefined) ?? []).map((exemplar) => ({
                traceId: exemplar.traceId as string | undefined,
                spanId: exemplar.spanId as string | undefined,
                value: num(exemplar.asDouble ?? exemplar.asInt),
              })),
              resource,
              scope,
            });
          }
        }
      }
    }
  }
  return points;
}
