import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { DataPointType, type Histogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { tracingFailed } from '../failure';
import { bucketIndex, type Exemplar, type ExemplarLookup } from './exemplars';

/**
 * Exemplars exist in Prometheus exposition only in OpenMetrics text. A scraper that asks for
 * `application/openmetrics-text` gets exporter-prometheus's own text turned into OpenMetrics
 * 1.0 (counter families named without `_total`, no `# UNIT` lines, whose units are not name
 * suffixes here, `# EOF`) with `# {trace_id,span_id} value timestamp` on the bucket lines;
 * any other scraper gets the upstream response unchanged.
 */

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

// As exporter-prometheus writes names and label values; a drift only costs the exemplars.
const escapeString = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const sanitize = (name: string) => name.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_');
const labelValue = (value: unknown) =>
  escapeString(typeof value === 'string' ? value : JSON.stringify(value)).replace(/"/g, '\\"');

/** The text every bucket line of a data point starts with, up to the `le` value. */
function bucketPrefix(name: string, attributes: Record<string, unknown>, scope: Record<string, string>): string {
  const labels = [...Object.entries(attributes), ...Object.entries(scope)].map(
    ([key, value]) => `${sanitize(key)}="${labelValue(value)}",`,
  );
  return `${sanitize(escapeString(name))}_bucket{${labels.join('')}le="`;
}

interface PointExemplars {
  boundaries: readonly number[];
  exemplars: Exemplar[];
}

function exemplarsByBucketLine(metrics: ResourceMetrics, lookup: ExemplarLookup): Map<string, PointExemplars> {
  const found = new Map<string, PointExemplars>();
  for (const { scope, metrics: list } of metrics.scopeMetrics) {
    const scopeLabels: Record<string, string> = { 'otel.scope.name': scope.name };
    if (scope.schemaUrl) scopeLabels['otel.scope.schema_url'] = scope.schemaUrl;
    if (scope.version) scopeLabels['otel.scope.version'] = scope.version;
    const key = { scope: scope.name, scopeVersion: scope.version ?? '' };
    for (const metric of list) {
      if (metric.dataPointType !== DataPointType.HISTOGRAM) continue;
      for (const point of metric.dataPoints) {
        const exemplars = lookup({ ...key, name: metric.descriptor.name }, point.attributes);
        if (exemplars.length === 0) continue;
        found.set(bucketPrefix(metric.descriptor.name, point.attributes, scopeLabels), {
          boundaries: (point.value as Histogram).buckets.boundaries,
          exemplars,
        });
      }
    }
  }
  return found;
}

const exemplarLabel = (id: string) => /^[0-9a-f]+$/.test(id);

function exemplarText(exemplar: Exemplar): string {
  const labels: string[] = [];
  if (exemplar.traceId !== undefined && exemplarLabel(exemplar.traceId)) labels.push(`trace_id="${exemplar.traceId}"`);
  if (exemplar.spanId !== undefined && exemplarLabel(exemplar.spanId)) labels.push(`span_id="${exemplar.spanId}"`);
  return ` # {${labels.join(',')}} ${exemplar.value} ${(exemplar.timeMs / 1000).toFixed(3)}`;
}

/** exporter-prometheus's text format 0.0.4, as OpenMetrics 1.0 with exemplars. */
export function toOpenMetrics(text: string, metrics: ResourceMetrics, lookup: ExemplarLookup): string {
  const byLine = exemplarsByBucketLine(metrics, lookup);
  const counters = new Set([...text.matchAll(/^# TYPE (\S+_total) counter$/gm)].map((match) => match[1]));
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# UNIT ')) continue;
    const meta = /^# (HELP|TYPE) (\S+)(.*)$/.exec(line);
    if (meta !== null) {
      // a counter family is named without the _total its samples carry
      const [, kind, name = '', rest = ''] = meta;
      const family = counters.has(name) ? name.slice(0, -'_total'.length) : name;
      // OpenMetrics escapes a double quote in HELP text too
      lines.push(`# ${kind} ${family}${kind === 'HELP' ? rest.replace(/(?<!\\)"/g, '\\"') : rest}`);
      continue;
    }
    // no other comments in OpenMetrics (upstream writes one when nothing is registered)
    if (line.startsWith('#')) continue;
    const le = line.lastIndexOf('le="');
    const point = le > 0 ? byLine.get(line.slice(0, le + 4)) : undefined;
    if (point === undefined) {
      lines.push(line);
      continue;
    }
    const bound = line.slice(le + 4, line.indexOf('"', le + 4));
    const upper = bound === '+Inf' ? Number.POSITIVE_INFINITY : Number(bound);
    const exemplar = point.exemplars.find((candidate) => {
      const index = bucketIndex(point.boundaries, candidate.value);
      return (index < point.boundaries.length ? point.boundaries[index] : Number.POSITIVE_INFINITY) === upper;
    });
    lines.push(exemplar === undefined ? line : line + exemplarText(exemplar));
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

const accepts = (request: IncomingMessage) => (request.headers.accept ?? '').includes('application/openmetrics-text');

/**
 * exporter-prometheus's reader, served by a server of our own: `/metrics` answers as upstream
 * does, or in OpenMetrics with exemplars when the scraper asks for it.
 */
export class OpenMetricsPrometheusExporter extends PrometheusExporter {
  private readonly server: Server;
  private readonly serializer = new PrometheusSerializer();

  constructor(
    { host, port }: { host: string; port: number },
    /** The exemplars of a scrape (the latest per bucket). */
    private readonly exemplars: () => ExemplarLookup,
    callback: (error?: Error) => void,
  ) {
    super({ host, port, preventServerStart: true });
    this.server = createServer((request, response) => this.handle(request, response)).unref();
    this.server.once('error', (error) => callback(error));
    this.server.listen({ host, port }, () => callback());
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    if (new URL(request.url ?? '/', 'http://metrics').pathname !== '/metrics') {
      response.statusCode = 404;
      response.end();
    } else if (accepts(request)) {
      void this.openMetrics(response);
    } else this.getMetricsRequestHandler(request, response);
  }

  private async openMetrics(response: ServerResponse): Promise<void> {
    try {
      const { resourceMetrics } = await this.collect();
      const text = this.serializer.serialize(resourceMetrics);
      let body: string;
      try {
        body = toOpenMetrics(text, resourceMetrics, this.exemplars());
      } catch (failure) {
        tracingFailed('toOpenMetrics', failure);
        body = toOpenMetrics(text, resourceMetrics, () => []);
      }
      response.writeHead(200, { 'content-type': OPENMETRICS_CONTENT_TYPE }).end(body);
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(`# failed to export metrics: ${String(error)}`);
    }
  }

  override async onShutdown(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
