import { z } from 'zod';
import {
  collectWarnings,
  otelBool,
  otelEnum,
  otelHeaders,
  otelInt,
  otelList,
  otelString,
  otelUrl,
  warnEnv,
  type EnvWarning,
} from './otel-env';

/**
 * The only reader of `process.env`. One schema: every variable has a default or is
 * required, and a description that the README's table repeats. Our own variables are
 * strict: a bad value stops start-up, naming the variable. The `OTEL_*` variables follow
 * the OpenTelemetry specification's parsing rules instead (otel-env.ts): a bad value is
 * a warning and start-up goes on. The OTLP exporters also read `OTEL_EXPORTER_OTLP_*`
 * themselves (headers, certificates); those are checked here too.
 */

const bool = (description: string, fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'TRUE', 'FALSE', 'True', 'False', ''])
    .optional()
    .transform((value) =>
      value === undefined || value === '' ? fallback : value.toLowerCase() === 'true' || value === '1',
    )
    .describe(description);

const int = (description: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `expected an integer between ${min} and ${max}, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    })
    .describe(description);

const num = (description: string, fallback: number, { min, max }: { min: number; max: number }) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `expected a number between ${min} and ${max}, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    })
    .describe(description);

const optionalString = (description: string) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()))
    .describe(description);

const url = (description: string) =>
  optionalString(description).refine(
    (value) => value === undefined || (URL.canParse(value) && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)),
    {
      message: 'expected an absolute URL such as http://localhost:4318',
    },
  );

const CAPTURE_ON = ['true', '1', 'span_only', 'span_and_event'];
const CAPTURE_OFF = ['', 'false', '0', 'no_content', 'event_only'];

/**
 * OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT as the instrumentations that read it
 * spell it (true/false, or the GenAI utils' SPAN_ONLY/EVENT_ONLY/SPAN_AND_EVENT/NO_CONTENT),
 * any case. Content goes on spans only, so EVENT_ONLY records none. An unknown value must
 * not switch user data on: it is a warning, and capture stays off.
 */
function genAIContentCapture(value: string | undefined): boolean {
  const normal = (value ?? '').trim().toLowerCase();
  if (CAPTURE_ON.includes(normal)) return true;
  if (!CAPTURE_OFF.includes(normal)) {
    warnEnv(
      'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT',
      `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="${value}" is not one of true, false, SPAN_ONLY, EVENT_ONLY, ` +
        'SPAN_AND_EVENT, NO_CONTENT: content capture stays off',
    );
  }
  return false;
}

// scheme://host[:port], or :* for any port
const CORS_ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:(\d{1,5}|\*))?$/;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const OTEL_LOG_LEVELS = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'] as const;
const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
/** Spec sampler names that @opentelemetry/sdk-node does not build from the environment either. */
const UNSUPPORTED_SAMPLERS: Record<string, string> = {
  xray: 'the AWS X-Ray remote sampler is not bundled, as in @opentelemetry/sdk-node',
  jaeger_remote: 'the Jaeger remote sampler is not bundled, as in @opentelemetry/sdk-node',
  parentbased_jaeger_remote: 'the Jaeger remote sampler is not bundled, as in @opentelemetry/sdk-node',
};
const RESOURCE_DETECTORS = ['env', 'host', 'os', 'process', 'serviceinstance', 'container', 'all', 'none'] as const;
/** The instrumentations this service loads, by the names auto-instrumentations-node gives them. */
const INSTRUMENTATIONS = ['http', 'pg', 'ioredis', 'undici', 'runtime-node'] as const;
const UNUSED_INSTRUMENTATIONS: Record<string, string> = Object.fromEntries(
  ['express', 'router', 'fs', 'dns', 'net', 'socket.io', 'pino', 'redis', 'grpc'].map((name) => [
    name,
    'this service does not load it',
  ]),
);

const schema = z.object({
  NODE_ENV: z
    .enum(['development', 'test', 'production'])
    .default('development')
    .describe(
      'Runtime mode. production requires DATABASE_URL, JWT_SECRET and GEMINI_API_KEY and samples 10% of traces by default.',
    ),
  HOST: z.string().min(1).default('0.0.0.0').describe('Interface the HTTP server binds to.'),
  PORT: int('TCP port of the HTTP server (0 picks a free port).', 3000, { max: 65535 }),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info').describe('Application log level (pino).'),
  DATA_DIR: z
    .string()
    .min(1)
    .default('.data')
    .describe('Folder for local state: the embedded PostgreSQL cluster and the generated development JWT secret.'),
  DATABASE_URL: url(
    'PostgreSQL connection string. Unset outside production: an embedded PostgreSQL is started under DATA_DIR.',
  ),
  DATABASE_POOL_MAX: int('Maximum connections in the PostgreSQL pool.', 10, { min: 1, max: 1000 }),
  EMBEDDED_PG_PORT: int('Port of the embedded PostgreSQL (0 picks a free port at each start).', 0, { max: 65535 }),
  JWT_SECRET: optionalString(
    'HS256 secret that signs bearer tokens (at least 32 characters). Unset outside production: a random secret is generated once into DATA_DIR.',
  ).refine((value) => value === undefined || value.length >= 32, { message: 'must be at least 32 characters long' }),
  JWT_ISSUER: optionalString('When set, bearer tokens must carry this `iss` claim (and `npm run token` sets it).'),
  JWT_AUDIENCE: optionalString('When set, bearer tokens must carry this `aud` claim (and `npm run token` sets it).'),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 100kb or 1mb')
    .default('100kb')
    .describe('Largest accepted JSON body; larger bodies get 413.'),
  CORS_ORIGINS: optionalString(
    'Origins allowed to call the API and open Socket.io from a browser, comma separated; a trailing :* allows any port. Unset: none in production, http://localhost:* and http://127.0.0.1:* otherwise.',
  ).refine((value) => value === undefined || value.split(',').every((origin) => CORS_ORIGIN.test(origin.trim())), {
    message: 'expected origins such as https://app.example.com or http://localhost:*, comma separated',
  }),
  IDEMPOTENCY_KEY_TTL_SECONDS: int(
    'How long an Idempotency-Key and its first answer are kept (payments, plans).',
    86_400,
    { min: 60 },
  ),
  SHUTDOWN_TIMEOUT_MS: int('Deadline for graceful shutdown after SIGTERM/SIGINT.', 10_000, { min: 100, max: 600_000 }),
  REDIS_URL: url(
    'Redis for background jobs (BullMQ) and Socket.io across instances. Unset: plan jobs run inside the API process (lost on restart; one instance only).',
  ),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, :, _ and - only')
    .default('renovation')
    .describe(
      'Prefix of every Redis key and channel (BullMQ queues, Socket.io adapter), so several deployments can share a Redis.',
    ),
  PLAN_JOB_ATTEMPTS: int('Attempts of a plan job before it ends as failed.', 3, { min: 1, max: 20 }),
  PLAN_JOB_BACKOFF_MS: int('First retry delay of a failed plan job; doubles with each attempt.', 2_000, { min: 0 }),
  PLAN_WORKER_CONCURRENCY: int('Plan jobs one worker runs at once.', 2, { min: 1, max: 100 }),
  PLAN_JOB_LOCK_MS: int(
    "How long a worker's claim on a job lasts without renewal: a killed worker's job is taken over after about this long.",
    30_000,
    { min: 500 },
  ),
  PLAN_JOB_STALLED_INTERVAL_MS: int('How often a worker looks for jobs whose worker died.', 30_000, { min: 500 }),
  AI_DAILY_TOKEN_BUDGET: int(
    'Model tokens (input + output) one user may spend per UTC day on chat replies and plans; beyond, AI_BUDGET_EXCEEDED. 0: no budget.',
    0,
  ),
  GEMINI_API_KEY: optionalString(
    'Gemini API key. Unset outside production: an offline stand-in that speaks the Gemini REST API answers on loopback with canned renovation replies.',
  ),
  GEMINI_BASE_URL: url(
    'Override of the Gemini API base URL (a proxy, a test double). Default https://generativelanguage.googleapis.com.',
  ),
  GEMINI_MODEL: z.string().min(1).default('gemini-2.5-flash').describe('Gemini model the agent uses.'),
  GEMINI_TEMPERATURE: num('Sampling temperature of the model.', 0.4, { min: 0, max: 2 }),
  GEMINI_MAX_OUTPUT_TOKENS: int('Most tokens the model may generate per call.', 2048, { min: 1, max: 65_536 }),
  GEMINI_MAX_RETRIES: int(
    'Retries of a failed model call after 5xx and network errors (a 429 follows its own rule, see README).',
    2,
    { max: 10 },
  ),
  AGENT_MAX_STEPS: int('Most graph steps (model and tool turns) one chat message may take.', 12, { min: 2, max: 100 }),
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: z
    .string()
    .optional()
    .transform(genAIContentCapture)
    .describe(
      'Record system instructions, prompts, replies and tool arguments/results on AI spans: true or SPAN_ONLY or SPAN_AND_EVENT (on spans), false, NO_CONTENT or EVENT_ONLY (not recorded: no GenAI events are emitted). Off by default: it is user data.',
    ),
  OTEL_SEMCONV_STABILITY_OPT_IN: otelString(
    'Semantic-convention opt-ins (comma separated). gen_ai_latest_experimental is accepted and changes nothing: AI spans always follow the latest GenAI conventions.',
  ),
  TRACE_VIEWER_URL: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()))
    .refine(
      (value) => value === undefined || value === 'none' || (URL.canParse(value) && /^https?:\/\//i.test(value)),
      {
        message: 'expected the trace viewer base URL such as http://localhost:16686, or none',
      },
    )
    .describe(
      "Development only: each sampled request's access-log line links its trace in the local trace viewer (`trace_url`, `npm run traces`); none turns the link off.",
    ),
  TRACE_SQL_PARAMETERS: bool(
    'Record SQL parameter values on pg spans (db.query.parameter.*). Values can hold personal data: leave off in production.',
    false,
  ),

  OTEL_SDK_DISABLED: otelBool(
    'OTEL_SDK_DISABLED',
    'Disable tracing entirely: nothing is patched and nothing exported. Only true (any case) is true.',
  ),
  OTEL_SERVICE_NAME: otelString(
    'service.name of every span (default renovation-agent-backend; the worker: renovation-agent-worker).',
  ),
  OTEL_RESOURCE_ATTRIBUTES: otelString(
    'Extra resource attributes, key1=value1,key2=value2; they win over the detected ones.',
  ),
  OTEL_NODE_RESOURCE_DETECTORS: otelList(
    'OTEL_NODE_RESOURCE_DETECTORS',
    RESOURCE_DETECTORS,
    ['env', 'host', 'os', 'serviceinstance'],
    'Resource detectors: env, host, os, process, serviceinstance, container, all or none.',
  ),
  OTEL_NODE_ENABLED_INSTRUMENTATIONS: otelList(
    'OTEL_NODE_ENABLED_INSTRUMENTATIONS',
    INSTRUMENTATIONS,
    INSTRUMENTATIONS,
    'Instrumentations to use, by their auto-instrumentations-node name: http, pg, ioredis, undici, runtime-node (default all five).',
    UNUSED_INSTRUMENTATIONS,
    // as in auto-instrumentations-node: a list of names enables exactly those, even if none is ours
    'nothing',
  ),
  OTEL_NODE_DISABLED_INSTRUMENTATIONS: otelList(
    'OTEL_NODE_DISABLED_INSTRUMENTATIONS',
    INSTRUMENTATIONS,
    [],
    'Instrumentations to leave out (http, pg, ioredis, undici, runtime-node); applied after OTEL_NODE_ENABLED_INSTRUMENTATIONS.',
    UNUSED_INSTRUMENTATIONS,
  ),
  OTEL_TRACES_EXPORTER: otelList(
    'OTEL_TRACES_EXPORTER',
    ['otlp', 'zipkin', 'console', 'none'] as const,
    ['otlp'],
    'Where spans go: otlp, zipkin, console or none (comma separated).',
  ),
  OTEL_METRICS_EXPORTER: otelList(
    'OTEL_METRICS_EXPORTER',
    ['otlp', 'prometheus', 'console', 'none'] as const,
    ['otlp'],
    'Where metrics go: otlp (pushed every OTEL_METRIC_EXPORT_INTERVAL), prometheus (served on /metrics), console or none (comma separated).',
  ),
  OTEL_METRIC_EXPORT_INTERVAL: otelInt(
    'OTEL_METRIC_EXPORT_INTERVAL',
    60_000,
    'Time between two metric exports (otlp, console) in ms.',
    { min: 1 },
  ),
  OTEL_METRICS_EXEMPLAR_FILTER: otelEnum(
    'OTEL_METRICS_EXEMPLAR_FILTER',
    ['trace_based', 'always_on', 'always_off'] as const,
    'trace_based',
    'Which histogram measurements become exemplars (trace id on the data point): trace_based (in a sampled span), always_on or always_off.',
  ),
  OTEL_METRIC_EXPORT_TIMEOUT: otelInt(
    'OTEL_METRIC_EXPORT_TIMEOUT',
    30_000,
    'Time allowed for one metric export in ms (at most the interval).',
    { min: 1 },
  ),
  OTEL_EXPORTER_PROMETHEUS_HOST: otelString('Interface of the Prometheus /metrics endpoint (default localhost).'),
  OTEL_EXPORTER_PROMETHEUS_PORT: otelInt(
    'OTEL_EXPORTER_PROMETHEUS_PORT',
    9464,
    'Port of the Prometheus /metrics endpoint (give the worker its own).',
    { max: 65_535 },
  ),
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: otelUrl(
    'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
    'Full URL for metrics; wins over OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/metrics).',
  ),
  OTEL_EXPORTER_OTLP_METRICS_HEADERS: otelHeaders(
    'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
    'Headers for metric exports only; merged over OTEL_EXPORTER_OTLP_HEADERS.',
  ),
  OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: otelEnum(
    'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
    OTLP_PROTOCOLS,
    undefined,
    'OTLP transport for metrics; wins over OTEL_EXPORTER_OTLP_PROTOCOL.',
  ),
  OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: otelEnum(
    'OTEL_EXPORTER_OTLP_METRICS_COMPRESSION',
    ['gzip', 'none'] as const,
    undefined,
    'Compression for metric exports; wins over OTEL_EXPORTER_OTLP_COMPRESSION.',
  ),
  OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: otelInt(
    'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT',
    undefined,
    'Timeout of one metric export request in ms; wins over OTEL_EXPORTER_OTLP_TIMEOUT.',
    { min: 1 },
  ),
  OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: otelEnum(
    'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
    ['cumulative', 'delta', 'lowmemory'] as const,
    'cumulative',
    'Aggregation temporality of OTLP metrics: cumulative, delta (Datadog) or lowmemory.',
  ),
  OTEL_LOGS_EXPORTER: otelList(
    'OTEL_LOGS_EXPORTER',
    ['otlp', 'console', 'none'] as const,
    [],
    'Accepted for the standard set; logs go to stdout as JSON, not over OTLP yet (a warning says so unless none).',
  ),
  OTEL_CONFIG_FILE: otelString(
    'Declarative configuration file: not supported (a warning says so); the OTEL_* variables apply.',
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: otelUrl(
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'Base URL of the OTLP receiver; /v1/traces is appended for HTTP (default http://localhost:4318; grpc: http://localhost:4317).',
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otelUrl(
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    'Full URL for traces; wins over OTEL_EXPORTER_OTLP_ENDPOINT.',
  ),
  OTEL_EXPORTER_ZIPKIN_ENDPOINT: otelUrl(
    'OTEL_EXPORTER_ZIPKIN_ENDPOINT',
    'Zipkin collector URL when OTEL_TRACES_EXPORTER includes zipkin (default http://localhost:9411/api/v2/spans).',
  ),
  OTEL_EXPORTER_OTLP_HEADERS: otelHeaders(
    'OTEL_EXPORTER_OTLP_HEADERS',
    'Headers sent with every export, key1=value1,key2=value2, percent-encoded (API keys go here; never logged).',
  ),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: otelHeaders(
    'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
    'Headers for trace exports only; merged over OTEL_EXPORTER_OTLP_HEADERS.',
  ),
  // TLS for the export: read by the exporters themselves, listed here for the documentation
  OTEL_EXPORTER_OTLP_CERTIFICATE: otelString("PEM file of the CA that signed the OTLP receiver's certificate (TLS)."),
  OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: otelString(
    'CA file for trace exports; wins over OTEL_EXPORTER_OTLP_CERTIFICATE.',
  ),
  OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: otelString('PEM file of our client certificate (mTLS).'),
  OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: otelString(
    'Client certificate for trace exports; wins over OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE.',
  ),
  OTEL_EXPORTER_OTLP_CLIENT_KEY: otelString('PEM file of our client private key (mTLS).'),
  OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: otelString(
    'Client key for trace exports; wins over OTEL_EXPORTER_OTLP_CLIENT_KEY.',
  ),
  OTEL_EXPORTER_OTLP_INSECURE: otelBool(
    'OTEL_EXPORTER_OTLP_INSECURE',
    'grpc only: true allows a plain-text connection when the endpoint has no scheme.',
  ),
  OTEL_EXPORTER_OTLP_TRACES_INSECURE: otelBool(
    'OTEL_EXPORTER_OTLP_TRACES_INSECURE',
    'grpc only: OTEL_EXPORTER_OTLP_INSECURE for trace exports.',
  ),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otelEnum(
    'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    OTLP_PROTOCOLS,
    undefined,
    'OTLP transport for traces; wins over OTEL_EXPORTER_OTLP_PROTOCOL.',
  ),
  OTEL_EXPORTER_OTLP_PROTOCOL: otelEnum(
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    OTLP_PROTOCOLS,
    'http/protobuf',
    'OTLP transport: http/protobuf, http/json or grpc.',
  ),
  OTEL_EXPORTER_OTLP_COMPRESSION: otelEnum(
    'OTEL_EXPORTER_OTLP_COMPRESSION',
    ['gzip', 'none'] as const,
    undefined,
    'Compress exports: gzip or none.',
  ),
  OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: otelEnum(
    'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION',
    ['gzip', 'none'] as const,
    undefined,
    'Compression for trace exports; wins over OTEL_EXPORTER_OTLP_COMPRESSION.',
  ),
  OTEL_EXPORTER_OTLP_TIMEOUT: otelInt(
    'OTEL_EXPORTER_OTLP_TIMEOUT',
    10_000,
    'Timeout of one export request (with its retries) in ms.',
    { min: 1 },
  ),
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: otelInt(
    'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
    undefined,
    'Timeout of one trace export request in ms; wins over OTEL_EXPORTER_OTLP_TIMEOUT.',
    { min: 1 },
  ),
  OTEL_TRACES_SAMPLER: otelEnum(
    'OTEL_TRACES_SAMPLER',
    SAMPLERS,
    undefined,
    'Sampler (spec names). Default parentbased_always_on; parentbased_traceidratio in production.',
    UNSUPPORTED_SAMPLERS,
  ),
  OTEL_TRACES_SAMPLER_ARG: z
    .string()
    .optional()
    .transform((value) => {
      if (value === undefined || value.trim() === '') return undefined;
      const ratio = Number(value.trim());
      if (Number.isFinite(ratio) && ratio >= 0 && ratio <= 1) return ratio;
      warnEnv(
        'OTEL_TRACES_SAMPLER_ARG',
        `OTEL_TRACES_SAMPLER_ARG="${value}" is not a ratio between 0 and 1; it is ignored (the default ratio applies)`,
      );
      return undefined;
    })
    .describe('Sampling ratio for the traceidratio samplers (default 1, production 0.1).'),
  TRACE_TRUSTED_EDGE: bool(
    'true behind a gateway that strips or sets traceparent: an incoming sampled traceparent is always followed. false (public edge): it spends the trusted-samples budget.',
    false,
  ),
  TRACE_TRUSTED_SAMPLES_PER_SECOND: int(
    'Trust boundary: traces per second that x-force-sample, critical operations or (unless TRACE_TRUSTED_EDGE) an incoming sampled traceparent may force; beyond, the ratio decides (0: never).',
    100,
  ),
  TRACE_TRUSTED_SAMPLES_BURST: int(
    'Burst allowed on top of TRACE_TRUSTED_SAMPLES_PER_SECOND (-1 or unset: the same number as the rate).',
    -1,
    { min: -1 },
  ),
  TRACE_EXPORT_BUFFER_SPANS: int(
    'Outage buffer: spans kept while the trace backend is unreachable, on top of the batch queue; beyond, the oldest are dropped and counted.',
    20_000,
    { min: 100 },
  ),
  TRACE_EXPORT_RETRY_MAX_DELAY_MS: int('Longest pause between two export attempts during an outage.', 30_000, {
    min: 100,
  }),
  OTEL_BSP_SCHEDULE_DELAY: otelInt('OTEL_BSP_SCHEDULE_DELAY', 5000, 'Delay between two batch exports in ms.'),
  OTEL_BSP_MAX_QUEUE_SIZE: otelInt(
    'OTEL_BSP_MAX_QUEUE_SIZE',
    2048,
    'Spans waiting in the batch queue; beyond it new spans are dropped.',
    { min: 1 },
  ),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: otelInt(
    'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
    128,
    'Spans per export request, at most OTEL_BSP_MAX_QUEUE_SIZE (default 128, not the spec 512: serialising 512 spans stalls the event loop for ms).',
    { min: 1 },
  ),
  OTEL_BSP_EXPORT_TIMEOUT: otelInt(
    'OTEL_BSP_EXPORT_TIMEOUT',
    30_000,
    'Time allowed for one export attempt in ms; a slower one counts as failed and is retried.',
    { min: 1 },
  ),
  OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: otelInt(
    'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
    undefined,
    'Longest string attribute value; longer ones are truncated (default unlimited).',
  ),
  OTEL_ATTRIBUTE_COUNT_LIMIT: otelInt(
    'OTEL_ATTRIBUTE_COUNT_LIMIT',
    undefined,
    'Most attributes per span, event and link (default 128).',
  ),
  OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: otelInt(
    'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
    undefined,
    'Longest span attribute value; wins over OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT.',
  ),
  OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: otelInt(
    'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT',
    undefined,
    'Most attributes per span; wins over OTEL_ATTRIBUTE_COUNT_LIMIT.',
  ),
  OTEL_SPAN_EVENT_COUNT_LIMIT: otelInt('OTEL_SPAN_EVENT_COUNT_LIMIT', undefined, 'Most events per span (default 128).'),
  OTEL_SPAN_LINK_COUNT_LIMIT: otelInt('OTEL_SPAN_LINK_COUNT_LIMIT', undefined, 'Most links per span (default 128).'),
  OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: otelInt(
    'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT',
    undefined,
    'Most attributes per span event (default 128).',
  ),
  OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: otelInt(
    'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT',
    undefined,
    'Most attributes per span link (default 128).',
  ),
  OTEL_LOG_LEVEL: otelEnum(
    'OTEL_LOG_LEVEL',
    OTEL_LOG_LEVELS,
    'info',
    'Level of the OpenTelemetry diagnostics (own level, whatever LOG_LEVEL says), written as JSON lines with component "otel".',
  ),
  OTEL_PROPAGATORS: otelList(
    'OTEL_PROPAGATORS',
    ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger', 'none'] as const,
    ['tracecontext', 'baggage'],
    'Context propagation formats: tracecontext, baggage, b3, b3multi, jaeger or none (x-request-id is always propagated).',
    { xray: 'not bundled', ottrace: 'not bundled' },
  ),
});

export type Env = z.output<typeof schema>;

export const DEFAULT_TRACE_VIEWER_URL = 'http://localhost:16686';

/** Base URL the access log links traces to: in development only, where the local viewer runs. */
export function traceViewerUrl(env: Pick<Env, 'NODE_ENV' | 'TRACE_VIEWER_URL'>): string | undefined {
  if (env.NODE_ENV !== 'development' || env.TRACE_VIEWER_URL === 'none') return undefined;
  return (env.TRACE_VIEWER_URL ?? DEFAULT_TRACE_VIEWER_URL).replace(/\/+$/, '');
}

/** Thrown when the environment does not parse; the message names every bad variable. */
export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

const PRODUCTION_REQUIRED = ['DATABASE_URL', 'JWT_SECRET', 'GEMINI_API_KEY'] as const;

/**
 * Parses the environment: every problem at once (a value that does not parse and a
 * variable production requires alike), so one failed start shows the whole list.
 * `OTEL_*` variables never stop start-up: a bad one is a warning (see otel-env.ts).
 */
export function parseEnvWithWarnings(source: Record<string, string | undefined>): {
  env: Readonly<Env>;
  warnings: EnvWarning[];
} {
  const { result, warnings } = collectWarnings(() => schema.safeParse(source));
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  if (source.NODE_ENV?.trim() === 'production') {
    for (const key of PRODUCTION_REQUIRED) {
      if (source[key] === undefined || source[key].trim() === '')
        problems.push(`${key}: is required when NODE_ENV=production`);
    }
  }
  if (problems.length > 0 || !result.success) throw new EnvError(problems);
  return { env: Object.freeze(result.data), warnings };
}

export function parseEnv(source: Record<string, string | undefined>): Readonly<Env> {
  return parseEnvWithWarnings(source).env;
}

let cached: { env: Readonly<Env>; warnings: EnvWarning[] } | undefined;

/** The process environment, parsed once. */
export function getEnv(): Readonly<Env> {
  cached ??= parseEnvWithWarnings(process.env);
  return cached.env;
}

/** What was wrong with the `OTEL_*` variables (start-up went on with the value each names). */
export function getEnvWarnings(): readonly EnvWarning[] {
  getEnv();
  return cached!.warnings;
}

export type { EnvWarning };

/** Parses the environment, or prints what is wrong and exits 1: for entry points. */
export function getEnvOrExit(): Readonly<Env> {
  try {
    return getEnv();
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/** Descriptions of every variable, for documentation checks. */
export function describeEnv(): Array<{ name: string; description: string | undefined }> {
  const shape = schema.shape ?? {};
  return Object.entries(shape).map(([name, field]) => ({ name, description: (field as z.ZodType).description }));
}
