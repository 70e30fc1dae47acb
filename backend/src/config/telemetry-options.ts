/**
 * The environment → tracing options mapping, and the start-up both process bootstraps
 * (telemetry.ts for the API server, telemetry-worker.ts for the worker) share. No
 * effects at import: only the bootstraps call it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { startTelemetry, type Telemetry, type TelemetryOptions } from '../telemetry';
import { createLogger, type Logger } from '../utils/logger';
import { getEnvOrExit, type Env } from './env';

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
    const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as { version?: string };
    return manifest.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function telemetryOptionsFromEnv(env: Readonly<Env>, logger: Logger, defaultServiceName = DEFAULT_SERVICE_NAME): TelemetryOptions {
  const production = env.NODE_ENV === 'production';
  const resourceAttributes = env.OTEL_RESOURCE_ATTRIBUTES ? parseKeyPairsIntoRecord(env.OTEL_RESOURCE_ATTRIBUTES) : {};
  const serviceName = env.OTEL_SERVICE_NAME ?? resourceAttributes['service.name'] ?? defaultServiceName;
  const exporters = env.OTEL_TRACES_EXPORTER.split(',').map((name) => name.trim()) as TelemetryOptions['exporters'];
  const tracesEndpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`;
  return {
    disabled: env.OTEL_SDK_DISABLED,
    resource: {
      serviceName,
      serviceVersion: packageVersion(),
      environment: env.NODE_ENV,
      attributes: { ...resourceAttributes, 'service.name': serviceName },
    },
    exporters,
    protocol: env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL,
    exportTarget: tracesEndpoint,
    sampler: {
      name: env.OTEL_TRACES_SAMPLER ?? (production ? 'parentbased_traceidratio' : 'parentbased_always_on'),
      ratio: env.OTEL_TRACES_SAMPLER_ARG ?? (production ? 0.1 : 1),
      trustedPerSecond: env.TRACE_TRUSTED_SAMPLES_PER_SECOND,
      trustedBurst: env.TRACE_TRUSTED_SAMPLES_BURST === -1 ? env.TRACE_TRUSTED_SAMPLES_PER_SECOND : env.TRACE_TRUSTED_SAMPLES_BURST,
    },
    buffer: { maxSpans: env.TRACE_EXPORT_BUFFER_SPANS, maxRetryDelayMs: env.TRACE_EXPORT_RETRY_MAX_DELAY_MS },
    batch: {
      scheduledDelayMillis: env.OTEL_BSP_SCHEDULE_DELAY,
      maxQueueSize: env.OTEL_BSP_MAX_QUEUE_SIZE,
      maxExportBatchSize: Math.min(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, env.OTEL_BSP_MAX_QUEUE_SIZE),
      exportTimeoutMillis: env.OTEL_BSP_EXPORT_TIMEOUT,
    },
    propagators: env.OTEL_PROPAGATORS.split(',').map((name) => name.trim()) as TelemetryOptions['propagators'],
    diagLogLevel: env.OTEL_LOG_LEVEL,
    untracedPaths: UNTRACED_PATHS,
    captureSqlParameters: env.TRACE_SQL_PARAMETERS,
    logger,
  };
}

/** Starts tracing for one of the app's processes (API server, worker). */
export function bootstrapTelemetry(defaultServiceName: string): Telemetry {
  const env = getEnvOrExit();
  return startTelemetry(telemetryOptionsFromEnv(env, createLogger({ level: env.LOG_LEVEL }), defaultServiceName));
}
