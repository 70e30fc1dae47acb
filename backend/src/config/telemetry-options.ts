/**
 * The environment → tracing options mapping, and the start-up both process bootstraps
 * (telemetry.ts for the API server, telemetry-worker.ts for the worker) share. No
 * effects at import: only the bootstraps call it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { ATTR_SERVICE_NAME, type Telemetry, type TelemetryOptions } from '../telemetry';
import { startTelemetry } from '../telemetry/sdk/start';
import { createLogger, type Logger } from '../utils/logger';
import { getEnvOrExit, getEnvWarnings, type Env } from './env';

/** For the composition root: the in-process Gemini stand-in is served untraced (config/ is where the SDK is reached). */
export { excludeServerFromTracing } from '../telemetry/sdk/instrumentations';

export const DEFAULT_SERVICE_NAME = 'renovation-agent-backend';
/**
 * Served untraced: probes (they would outnumber real traffic and say nothing) and the
 * Socket.io transport (each long-polling request would be a span; the chat is traced
 * per event by the Socket.io tracing middleware instead).
 */
export const UNTRACED_PATHS = ['/health', '/ready', '/socket.io/'] as const;

function packageVersion(): string {
  try {
    // backend/src/config or backend/dist/config → the package root
    const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as {
      version?: string;
    };
    return manifest.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const PINO_LEVELS: Record<string, string> = {
  none: 'silent',
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  verbose: 'trace',
  all: 'trace',
};

/** OpenTelemetry's diagnostics get their own level (OTEL_LOG_LEVEL), whatever LOG_LEVEL says, on the same stream. */
export function createDiagLogger(logger: Logger, otelLogLevel: string): Logger {
  return logger.child({ component: 'otel' }, { level: PINO_LEVELS[otelLogLevel] ?? 'info' });
}

function tracesEndpoint(env: Readonly<Env>, protocol: TelemetryOptions['protocol']): string {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (protocol === 'grpc') return env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4317';
  return `${(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`;
}

function metricsEndpoint(env: Readonly<Env>, protocol: TelemetryOptions['protocol']): string {
  if (env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT !== undefined) return env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  if (protocol === 'grpc') return env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4317';
  return `${(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/metrics`;
}

export function telemetryOptionsFromEnv(
  env: Readonly<Env>,
  logger: Logger,
  defaultServiceName = DEFAULT_SERVICE_NAME,
  diagLogger: Logger = createDiagLogger(logger, env.OTEL_LOG_LEVEL),
): TelemetryOptions {
  const production = env.NODE_ENV === 'production';
  const resourceAttributes = env.OTEL_RESOURCE_ATTRIBUTES ? parseKeyPairsIntoRecord(env.OTEL_RESOURCE_ATTRIBUTES) : {};
  const serviceName = env.OTEL_SERVICE_NAME ?? resourceAttributes[ATTR_SERVICE_NAME] ?? defaultServiceName;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  // production lowers the default sampler and ratio; the start-up line says so when either default is in use
  const productionDefault =
    production && (env.OTEL_TRACES_SAMPLER === undefined || env.OTEL_TRACES_SAMPLER_ARG === undefined);
  let maxExportBatchSize = env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE;
  if (maxExportBatchSize > env.OTEL_BSP_MAX_QUEUE_SIZE) {
    diagLogger.warn(
      { variable: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE' },
      `OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${maxExportBatchSize} is larger than OTEL_BSP_MAX_QUEUE_SIZE=${env.OTEL_BSP_MAX_QUEUE_SIZE}; using ${env.OTEL_BSP_MAX_QUEUE_SIZE}`,
    );
    maxExportBatchSize = env.OTEL_BSP_MAX_QUEUE_SIZE;
  }
  const enabled = env.OTEL_NODE_ENABLED_INSTRUMENTATIONS.filter(
    (name) => !env.OTEL_NODE_DISABLED_INSTRUMENTATIONS.includes(name),
  );
  return {
    disabled: env.OTEL_SDK_DISABLED,
    resource: {
      serviceName,
      serviceVersion: packageVersion(),
      environment: env.NODE_ENV,
      attributes: { ...resourceAttributes, [ATTR_SERVICE_NAME]: serviceName },
    },
    resourceDetectors: env.OTEL_NODE_RESOURCE_DETECTORS,
    exporters: env.OTEL_TRACES_EXPORTER,
    protocol,
    compression: env.OTEL_EXPORTER_OTLP_TRACES_COMPRESSION ?? env.OTEL_EXPORTER_OTLP_COMPRESSION,
    exportTimeoutMs: env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT,
    exportTarget: tracesEndpoint(env, protocol),
    zipkinEndpoint: env.OTEL_EXPORTER_ZIPKIN_ENDPOINT,
    sampler: {
      name: env.OTEL_TRACES_SAMPLER ?? (production ? 'parentbased_traceidratio' : 'parentbased_always_on'),
      ratio: env.OTEL_TRACES_SAMPLER_ARG ?? (production ? 0.1 : 1),
      defaultedBy: productionDefault ? 'NODE_ENV=production' : undefined,
      trustedPerSecond: env.TRACE_TRUSTED_SAMPLES_PER_SECOND,
      trustedBurst:
        env.TRACE_TRUSTED_SAMPLES_BURST === -1 ? env.TRACE_TRUSTED_SAMPLES_PER_SECOND : env.TRACE_TRUSTED_SAMPLES_BURST,
      trustedEdge: env.TRACE_TRUSTED_EDGE,
    },
    buffer: { maxSpans: env.TRACE_EXPORT_BUFFER_SPANS, maxRetryDelayMs: env.TRACE_EXPORT_RETRY_MAX_DELAY_MS },
    batch: {
      scheduledDelayMillis: env.OTEL_BSP_SCHEDULE_DELAY,
      maxQueueSize: env.OTEL_BSP_MAX_QUEUE_SIZE,
      maxExportBatchSize,
      exportTimeoutMillis: env.OTEL_BSP_EXPORT_TIMEOUT,
    },
    spanLimits: {
      attributeValueLengthLimit: env.OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT ?? env.OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
      attributeCountLimit: env.OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT ?? env.OTEL_ATTRIBUTE_COUNT_LIMIT,
      eventCountLimit: env.OTEL_SPAN_EVENT_COUNT_LIMIT,
      linkCountLimit: env.OTEL_SPAN_LINK_COUNT_LIMIT,
      attributePerEventCountLimit: env.OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT ?? env.OTEL_ATTRIBUTE_COUNT_LIMIT,
      attributePerLinkCountLimit: env.OTEL_LINK_ATTRIBUTE_COUNT_LIMIT ?? env.OTEL_ATTRIBUTE_COUNT_LIMIT,
    },
    metrics: {
      exporters: env.OTEL_METRICS_EXPORTER,
      protocol: env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL,
      temporality: env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE,
      exemplarFilter: env.OTEL_METRICS_EXEMPLAR_FILTER,
      intervalMs: env.OTEL_METRIC_EXPORT_INTERVAL,
      timeoutMs: env.OTEL_METRIC_EXPORT_TIMEOUT,
      prometheus: { host: env.OTEL_EXPORTER_PROMETHEUS_HOST ?? 'localhost', port: env.OTEL_EXPORTER_PROMETHEUS_PORT },
      otlpTarget: metricsEndpoint(env, env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL),
    },
    propagators: env.OTEL_PROPAGATORS,
    instrumentations: enabled,
    diagLogLevel: env.OTEL_LOG_LEVEL,
    untracedPaths: UNTRACED_PATHS,
    captureSqlParameters: env.TRACE_SQL_PARAMETERS,
    logger,
    diagLogger,
  };
}

/** The configuration warnings of the OTEL_* variables, and what is accepted but not (yet) acted on. */
function reportEnvironment(env: Readonly<Env>, diagLogger: Logger): void {
  for (const { variable, message } of getEnvWarnings()) diagLogger.warn({ variable }, message);
  const logs = env.OTEL_LOGS_EXPORTER;
  if (logs.length > 0 && !logs.includes('none')) {
    diagLogger.warn(
      { variable: 'OTEL_LOGS_EXPORTER' },
      `OTEL_LOGS_EXPORTER=${logs.join(',')}: this service does not export logs over OTLP yet (they are JSON lines on stdout, with trace ids); set it to none to silence this`,
    );
  }
  if (env.OTEL_CONFIG_FILE !== undefined) {
    diagLogger.warn(
      { variable: 'OTEL_CONFIG_FILE' },
      'OTEL_CONFIG_FILE is not supported (declarative configuration is experimental in @opentelemetry/sdk-node and not used here); the OTEL_* environment variables apply',
    );
  }
}

/** Starts tracing for one of the app's processes (API server, worker). */
export function bootstrapTelemetry(defaultServiceName: string): Telemetry {
  const env = getEnvOrExit();
  const logger = createLogger({ level: env.LOG_LEVEL });
  const diagLogger = createDiagLogger(logger, env.OTEL_LOG_LEVEL);
  reportEnvironment(env, diagLogger);
  return startTelemetry(telemetryOptionsFromEnv(env, logger, defaultServiceName, diagLogger));
}
