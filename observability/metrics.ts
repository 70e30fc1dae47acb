/**
 * The metrics the backend emits, as one list: the contract between the instrumentation and the
 * dashboards and alerts under `observability/`. Tests compare every name a dashboard, an alert
 * or a Datadog query uses with this list, and the instrumentation test checks the app emits it.
 */

export type MetricKind = 'histogram' | 'counter' | 'updowncounter' | 'gauge';

export interface MetricSpec {
  /** OpenTelemetry instrument name (the name Datadog and other OTLP back ends show). */
  readonly name: string;
  readonly kind: MetricKind;
  readonly unit: string;
  /** Attribute keys as OpenTelemetry writes them (dots). */
  readonly attributes: readonly string[];
  readonly description: string;
}

// server.address / server.port: recommended by the GenAI conventions on every GenAI metric.
const GEN_AI_CALL = [
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'gen_ai.request.model',
  'server.address',
  'server.port',
];

export const METRICS: readonly MetricSpec[] = [
  {
    name: 'http.server.request.duration',
    kind: 'histogram',
    unit: 's',
    attributes: ['http.request.method', 'http.route', 'http.response.status_code', 'error.type', 'url.scheme'],
    description: 'Duration of every HTTP request the API served, traced or not (RED per route).',
  },
  {
    name: 'db.client.operation.duration',
    kind: 'histogram',
    unit: 's',
    attributes: ['db.system.name', 'db.operation.name', 'db.collection.name', 'error.type'],
    description: 'Duration of each PostgreSQL operation.',
  },
  {
    name: 'gen_ai.client.operation.duration',
    kind: 'histogram',
    unit: 's',
    attributes: [...GEN_AI_CALL, 'gen_ai.response.model', 'error.type'],
    description: 'Duration of each model call to Gemini; error.type set when the call failed.',
  },
  {
    name: 'gen_ai.client.token.usage',
    kind: 'histogram',
    unit: '{token}',
    attributes: [...GEN_AI_CALL, 'gen_ai.response.model', 'gen_ai.token.type'],
    description: 'Tokens per model call, by gen_ai.token.type (input / output).',
  },
  {
    name: 'gen_ai.client.operation.time_to_first_chunk',
    kind: 'histogram',
    unit: 's',
    attributes: GEN_AI_CALL,
    description: 'Time from the start of a streamed model call to its first chunk.',
  },
  {
    name: 'renovation.gen_ai.cost',
    kind: 'counter',
    unit: '{USD}',
    attributes: ['gen_ai.provider.name', 'gen_ai.request.model'],
    description: 'Estimated cost of model calls in US dollars, from token usage and the price list.',
  },
  {
    name: 'renovation.socketio.connections',
    kind: 'updowncounter',
    unit: '{connection}',
    attributes: [],
    description: 'Socket.io connections open now.',
  },
  {
    name: 'messaging.process.duration',
    kind: 'histogram',
    unit: 's',
    attributes: ['messaging.system', 'messaging.operation.name', 'error.type'],
    description: 'Socket.io messages handled, by event (messaging.operation.name) and outcome (error.type).',
  },
  {
    name: 'renovation.plan_job.duration',
    kind: 'histogram',
    unit: 's',
    attributes: ['renovation.job.outcome', 'messaging.system', 'error.type'],
    description: 'Plan job attempts, by outcome (completed / failed / retried).',
  },
  {
    name: 'renovation.plan_job.queue.depth',
    kind: 'gauge',
    unit: '{job}',
    attributes: ['renovation.job.state'],
    description: 'Plan jobs in the queue, by state (waiting / active / delayed).',
  },
  {
    name: 'otel.sdk.span.started',
    kind: 'counter',
    unit: '{span}',
    attributes: ['otel.span.sampling_result', 'otel.span.parent.origin'],
    description: 'Spans started, by sampling decision (the SDK counts them).',
  },
  {
    name: 'otel.sdk.span.live',
    kind: 'updowncounter',
    unit: '{span}',
    attributes: ['otel.span.sampling_result'],
    description: 'Spans started and not yet ended (the SDK counts them).',
  },
  {
    name: 'otel.sdk.processor.span.processed',
    kind: 'counter',
    unit: '{span}',
    attributes: ['otel.component.type', 'otel.component.name', 'error.type'],
    description: 'Spans the batch processor handled; error.type=queue_full for those it dropped (the SDK counts them).',
  },
  {
    name: 'otel.sdk.exporter.span.exported',
    kind: 'counter',
    unit: '{span}',
    attributes: ['error.type'],
    description: 'Spans handed to the exporter; error.type set when they were dropped or lost.',
  },
  {
    name: 'otel.sdk.processor.span.queue.size',
    kind: 'gauge',
    unit: '{span}',
    attributes: [],
    description: 'Spans waiting in the batch processor queue.',
  },
  {
    name: 'otel.sdk.processor.span.queue.capacity',
    kind: 'gauge',
    unit: '{span}',
    attributes: [],
    description: 'Capacity of the batch processor queue (spans beyond it are dropped).',
  },
  ...(['p50', 'p99', 'max', 'mean'] as const).map(
    (stat): MetricSpec => ({
      name: `nodejs.eventloop.delay.${stat}`,
      kind: 'gauge',
      unit: 's',
      attributes: [],
      description: `Event-loop delay, ${stat}.`,
    }),
  ),
  {
    name: 'v8js.memory.heap.used',
    kind: 'gauge',
    unit: 'By',
    attributes: ['v8js.heap.space.name'],
    description: 'V8 heap used, by heap space.',
  },
];

/**
 * Labels every series carries besides its attributes: the scrape's own, the exporter's scope
 * labels, and `le` on histogram buckets.
 */
export const COMMON_LABELS: readonly string[] = ['job', 'instance', 'otel_scope_name', 'otel_scope_version', 'le'];

/** The resource series of `@opentelemetry/exporter-prometheus` (one per process, resource attributes as labels). */
export const TARGET_INFO = 'target_info';

/** Name or attribute key as `@opentelemetry/exporter-prometheus` writes it: every char outside [a-zA-Z0-9_] → `_`. */
export const prometheusName = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, '_');

/** The series one instrument appears as in Prometheus exposition (no unit suffix; `_total` on counters). */
export function prometheusSeries(metric: MetricSpec): string[] {
  const base = prometheusName(metric.name);
  if (metric.kind === 'histogram') return [`${base}_bucket`, `${base}_sum`, `${base}_count`];
  if (metric.kind === 'counter') return [`${base}_total`];
  return [base];
}

/** Every Prometheus series name the backend exposes on /metrics. */
export const PROMETHEUS_SERIES: readonly string[] = [...METRICS.flatMap(prometheusSeries), TARGET_INFO];

/** Every label name a query may use on the backend's series. */
export const PROMETHEUS_LABELS: readonly string[] = [
  ...new Set([...COMMON_LABELS, ...METRICS.flatMap((metric) => metric.attributes.map(prometheusName))]),
];

/** Every OpenTelemetry instrument name (as OTLP back ends such as Datadog show them). */
export const OTEL_METRIC_NAMES: readonly string[] = METRICS.map((metric) => metric.name);

/** Every attribute key, as OpenTelemetry writes it (Datadog tags keep these names). */
export const OTEL_ATTRIBUTES: readonly string[] = [...new Set(METRICS.flatMap((metric) => metric.attributes))];
