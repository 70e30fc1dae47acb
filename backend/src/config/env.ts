import { z } from 'zod';

/**
 * The only reader of `process.env`. One schema: every variable has a default or is
 * required, and a description that the README's table repeats. OpenTelemetry's own
 * libraries also read the `OTEL_EXPORTER_OTLP_*` variables themselves (endpoint,
 * headers, compression, timeout, per-signal overrides); they are validated here so
 * that a bad value stops start-up instead of silently disabling export.
 */

const bool = (description: string, fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'TRUE', 'FALSE', 'True', 'False', ''])
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : value.toLowerCase() === 'true' || value === '1'))
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
  optionalString(description).refine((value) => value === undefined || (URL.canParse(value) && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)), {
    message: 'expected an absolute URL such as http://localhost:4318',
  });

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
    process.emitWarning(
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
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

const schema = z
  .object({
    NODE_ENV: z
      .enum(['development', 'test', 'production'])
      .default('development')
      .describe('Runtime mode. production requires DATABASE_URL and JWT_SECRET and samples 10% of traces by default.'),
    HOST: z.string().min(1).default('0.0.0.0').describe('Interface the HTTP server binds to.'),
    PORT: int('TCP port of the HTTP server (0 picks a free port).', 3000, { max: 65535 }),
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info').describe('Application log level (pino).'),
    DATA_DIR: z
      .string()
      .min(1)
      .default('.data')
      .describe('Folder for local state: the embedded PostgreSQL cluster and the generated development JWT secret.'),
    DATABASE_URL: url('PostgreSQL connection string. Unset outside production: an embedded PostgreSQL is started under DATA_DIR.'),
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
    IDEMPOTENCY_KEY_TTL_SECONDS: int('How long an Idempotency-Key and its first answer are kept (payments, plans).', 86_400, { min: 60 }),
    SHUTDOWN_TIMEOUT_MS: int('Deadline for graceful shutdown after SIGTERM/SIGINT.', 10_000, { min: 100, max: 600_000 }),
    REDIS_URL: url(
      'Redis for background jobs (BullMQ) and Socket.io across instances. Unset: plan jobs run inside the API process (lost on restart; one instance only).',
    ),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, :, _ and - only')
      .default('renovation')
      .describe('Prefix of every Redis key and channel (BullMQ queues, Socket.io adapter), so several deployments can share a Redis.'),
    PLAN_JOB_ATTEMPTS: int('Attempts of a plan job before it ends as failed.', 3, { min: 1, max: 20 }),
    PLAN_JOB_BACKOFF_MS: int('First retry delay of a failed plan job; doubles with each attempt.', 2_000, { min: 0 }),
    PLAN_WORKER_CONCURRENCY: int('Plan jobs one worker runs at once.', 2, { min: 1, max: 100 }),
    PLAN_JOB_LOCK_MS: int("How long a worker's claim on a job lasts without renewal: a killed worker's job is taken over after about this long.", 30_000, { min: 500 }),
    PLAN_JOB_STALLED_INTERVAL_MS: int('How often a worker looks for jobs whose worker died.', 30_000, { min: 500 }),
    AI_DAILY_TOKEN_BUDGET: int(
      'Model tokens (input + output) one user may spend per UTC day on chat replies and plans; beyond, AI_BUDGET_EXCEEDED. 0: no budget.',
      0,
    ),
    GEMINI_API_KEY: optionalString(
      'Gemini API key. Unset outside production: an offline stand-in that speaks the Gemini REST API answers on loopback with canned renovation replies.',
    ),
    GEMINI_BASE_URL: url('Override of the Gemini API base URL (a proxy, a test double). Default https://generativelanguage.googleapis.com.'),
    GEMINI_MODEL: z.string().min(1).default('gemini-2.5-flash').describe('Gemini model the agent uses.'),
    GEMINI_TEMPERATURE: num('Sampling temperature of the model.', 0.4, { min: 0, max: 2 }),
    GEMINI_MAX_OUTPUT_TOKENS: int('Most tokens the model may generate per call.', 2048, { min: 1, max: 65_536 }),
    GEMINI_MAX_RETRIES: int('Retries of a failed model call after 5xx and network errors (a 429 follows its own rule, see README).', 2, { max: 10 }),
    AGENT_MAX_STEPS: int('Most graph steps (model and tool turns) one chat message may take.', 12, { min: 2, max: 100 }),
    OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: z
      .string()
      .optional()
      .transform(genAIContentCapture)
      .describe(
        'Record system instructions, prompts, replies and tool arguments/results on AI spans: true or SPAN_ONLY or SPAN_AND_EVENT (on spans), false, NO_CONTENT or EVENT_ONLY (not recorded: no GenAI events are emitted). Off by default: it is user data.',
      ),
    OTEL_SEMCONV_STABILITY_OPT_IN: z
      .string()
      .default('')
      .describe(
        'Semantic-convention opt-ins (comma separated). gen_ai_latest_experimental is accepted and changes nothing: AI spans always follow the latest GenAI conventions.',
      ),
    TRACE_VIEWER_URL: z
      .string()
      .optional()
      .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()))
      .refine((value) => value === undefined || value === 'none' || (URL.canParse(value) && /^https?:\/\//i.test(value)), {
        message: 'expected the trace viewer base URL such as http://localhost:16686, or none',
      })
      .describe(
        'Development only: each sampled request\'s access-log line links its trace in the local trace viewer (`trace_url`, `npm run traces`); none turns the link off.',
      ),
    TRACE_SQL_PARAMETERS: bool(
      'Record SQL parameter values on pg spans (db.query.parameter.*). Values can hold personal data: leave off in production.',
      false,
    ),

    OTEL_SDK_DISABLED: bool('Disable tracing entirely: nothing is patched and nothing exported.', false),
    OTEL_SERVICE_NAME: optionalString('service.name of every span (default renovation-agent-backend).'),
    OTEL_RESOURCE_ATTRIBUTES: optionalString('Extra resource attributes, key1=value1,key2=value2; they win over the defaults.'),
    OTEL_TRACES_EXPORTER: z
      .string()
      .default('otlp')
      .refine((value) => value.split(',').every((name) => ['otlp', 'console', 'none'].includes(name.trim())), {
        message: 'expected otlp, console or none (comma separated)',
      })
      .describe('Where spans go: otlp, console or none.'),
    OTEL_EXPORTER_OTLP_ENDPOINT: url('Base URL of the OTLP/HTTP receiver; /v1/traces is appended (default http://localhost:4318).'),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url('Full URL for traces; wins over OTEL_EXPORTER_OTLP_ENDPOINT.'),
    OTEL_EXPORTER_OTLP_HEADERS: optionalString('Headers sent with every export, key1=value1,key2=value2 (API keys go here).'),
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: optionalString('Headers for trace exports only; merged over OTEL_EXPORTER_OTLP_HEADERS.'),
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z
      .enum(['http/protobuf', 'http/json'])
      .optional()
      .describe('OTLP encoding for traces; wins over OTEL_EXPORTER_OTLP_PROTOCOL.'),
    OTEL_EXPORTER_OTLP_PROTOCOL: z
      .enum(['http/protobuf', 'http/json'])
      .default('http/protobuf')
      .describe('OTLP encoding: http/protobuf or http/json (gRPC is not bundled).'),
    OTEL_EXPORTER_OTLP_COMPRESSION: z.enum(['gzip', 'none']).optional().describe('Compress exports with gzip.'),
    OTEL_EXPORTER_OTLP_TIMEOUT: int('Timeout of one export request in ms.', 10_000, { min: 1 }),
    OTEL_TRACES_SAMPLER: z.enum(SAMPLERS).optional().describe('Sampler (spec names). Default parentbased_always_on; parentbased_traceidratio in production.'),
    OTEL_TRACES_SAMPLER_ARG: z
      .string()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined || value.trim() === '') return undefined;
        const ratio = Number(value);
        if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
          ctx.addIssue({ code: 'custom', message: `expected a ratio between 0 and 1, got "${value}"` });
          return z.NEVER;
        }
        return ratio;
      })
      .describe('Sampling ratio for the traceidratio samplers (default 1, production 0.1).'),
    TRACE_TRUSTED_SAMPLES_PER_SECOND: int(
      'Trust boundary: traces per second that x-force-sample, critical operations or an incoming sampled traceparent may force; beyond, the ratio decides (0: never).',
      100,
    ),
    TRACE_TRUSTED_SAMPLES_BURST: int('Burst allowed on top of TRACE_TRUSTED_SAMPLES_PER_SECOND (default: the same number).', -1, { min: -1 }),
    TRACE_EXPORT_BUFFER_SPANS: int('Spans kept while the trace backend is unreachable; beyond, the oldest are dropped and counted.', 20_000, { min: 100 }),
    TRACE_EXPORT_RETRY_MAX_DELAY_MS: int('Longest pause between two export attempts during an outage.', 30_000, { min: 100 }),
    OTEL_BSP_SCHEDULE_DELAY: int('Delay between two batch exports in ms.', 5000),
    OTEL_BSP_MAX_QUEUE_SIZE: int('Spans kept waiting for export; beyond it new spans are dropped.', 2048, { min: 1 }),
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: int('Spans per export request.', 512, { min: 1 }),
    OTEL_BSP_EXPORT_TIMEOUT: int('Time allowed for one batch export in ms.', 30_000, { min: 1 }),
    OTEL_LOG_LEVEL: z
      .string()
      .default('warn')
      .transform((value) => value.toLowerCase())
      .pipe(z.enum(OTEL_LOG_LEVELS))
      .describe('Level of the SDK diagnostics, written through the application logger.'),
    OTEL_PROPAGATORS: z
      .string()
      .default('tracecontext,baggage')
      .refine((value) => value.split(',').every((name) => ['tracecontext', 'baggage', 'none'].includes(name.trim())), {
        message: 'expected tracecontext, baggage or none (comma separated)',
      })
      .describe('Context propagation formats.'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    for (const key of ['DATABASE_URL', 'JWT_SECRET', 'GEMINI_API_KEY'] as const) {
      if (env[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when NODE_ENV=production' });
    }
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

export function parseEnv(source: Record<string, string | undefined>): Readonly<Env> {
  const result = schema.safeParse(source);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return Object.freeze(result.data);
}

let cached: Readonly<Env> | undefined;

/** The process environment, parsed once. */
export function getEnv(): Readonly<Env> {
  cached ??= parseEnv(process.env);
  return cached;
}

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
