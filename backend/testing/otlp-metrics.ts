import { exportMetricsServiceRequest } from '../src/dev/otlp/proto';

/**
 * OTLP metrics (JSON or protobuf), decoded into one flat list of data points: what a test needs
 * to check names, units, attributes, values and exemplars. Protobuf is first turned into the
 * OTLP/JSON object shape, so one walker reads both.
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
  exemplars: ReceivedExemplar[];
  resource: Record<string, unknown>;
  scope: string;
}

export interface ReceivedExemplar {
  /** hex */
  traceId?: string;
  spanId?: string;
  value?: number;
  /** `asInt` rather than `asDouble` */
  isInt: boolean;
  timeUnixNano?: bigint;
}

type Json = Record<string, unknown>;

/** A trace or span id: hex in OTLP/JSON, bytes in protobuf. */
const hexId = (value: unknown): string | undefined => {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : Buffer.from(value as Uint8Array).toString('hex') || undefined;
};

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
  return decodeMetricsRequest(JSON.parse(body.toString('utf8')) as Json);
}

export function decodeMetricsProtobuf(body: Uint8Array): ReceivedMetricPoint[] {
  const type = exportMetricsServiceRequest();
  return decodeMetricsRequest(type.toObject(type.decode(body), { longs: String, arrays: true }) as Json);
}

function decodeMetricsRequest(request: Json): ReceivedMetricPoint[] {
  const points: ReceivedMetricPoint[] = [];
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
                traceId: hexId(exemplar.traceId),
                spanId: hexId(exemplar.spanId),
                value: num(exemplar.asDouble ?? exemplar.asInt),
                isInt: exemplar.asInt !== undefined,
                ...(exemplar.timeUnixNano !== undefined ? { timeUnixNano: BigInt(String(exemplar.timeUnixNano)) } : {}),
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
