import { z } from 'zod';

/**
 * The trace viewer's settings: the only place the viewer reads `process.env` (it is a
 * process of its own, beside the backend, whose variables live in config/env.ts).
 * The defaults are the ports every OTLP exporter and Jaeger user already knows, on
 * loopback: span data holds user ids, SQL and, with content capture on, prompts.
 */

const port = (description: string, fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
        ctx.addIssue({ code: 'custom', message: `expected a port between 0 and 65535, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    })
    .describe(description);

const count = (description: string, fallback: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `expected an integer between 1 and ${max}, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    })
    .describe(description);

const schema = z.object({
  NODE_ENV: z
    .string()
    .optional()
    .refine((value) => value !== 'production', {
      message: 'the trace viewer is a development tool and does not run with NODE_ENV=production',
    }),
  TRACE_VIEWER_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Interface both viewer ports bind to; loopback by default (span data is user data).'),
  TRACE_VIEWER_OTLP_PORT: port('Port of the OTLP/HTTP receiver (POST /v1/traces); 0 picks a free port.', 4318),
  TRACE_VIEWER_UI_PORT: port('Port of the web UI and its JSON API; 0 picks a free port.', 16686),
  TRACE_VIEWER_MAX_TRACES: count('Traces kept; beyond, the least recently updated is evicted.', 500, 100_000),
  TRACE_VIEWER_MAX_SPANS_PER_TRACE: count('Spans kept per trace; later ones are counted as dropped.', 5_000, 1_000_000),
  TRACE_VIEWER_FILE: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()))
    .describe('File the traces are saved to and loaded from at start (e.g. .data/traces.json); unset: memory only.'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Log level.'),
});

export interface ViewerConfig {
  host: string;
  otlpPort: number;
  uiPort: number;
  maxTraces: number;
  maxSpansPerTrace: number;
  file: string | undefined;
  logLevel: string;
}

/** Parses the viewer's variables; throws an Error naming every bad one. */
export function parseViewerConfig(source: Record<string, string | undefined>): ViewerConfig {
  const result = schema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  - ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid trace viewer environment:\n${problems.join('\n')}`);
  }
  const env = result.data;
  return {
    host: env.TRACE_VIEWER_HOST,
    otlpPort: env.TRACE_VIEWER_OTLP_PORT,
    uiPort: env.TRACE_VIEWER_UI_PORT,
    maxTraces: env.TRACE_VIEWER_MAX_TRACES,
    maxSpansPerTrace: env.TRACE_VIEWER_MAX_SPANS_PER_TRACE,
    file: env.TRACE_VIEWER_FILE,
    logLevel: env.LOG_LEVEL,
  };
}

/** The variables and their descriptions, for the README check. */
export function describeViewerConfig(): Array<{ name: string; description: string | undefined }> {
  return Object.entries(schema.shape)
    .filter(([name]) => name.startsWith('TRACE_VIEWER_'))
    .map(([name, field]) => ({ name, description: (field as z.ZodType).description }));
}
