import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import { canConnect } from './probe';

export interface ExportStats {
  exportedSpans: number;
  lostSpans: number;
  failedBatches: number;
}

/**
 * Wraps the OTLP exporter so that an unreachable backend is reported once when it
 * starts failing and once when it recovers, with counts, instead of one stack per
 * batch every few seconds. Export errors never reach a request: the batch processor
 * exports off the request path and this wrapper never throws. Its log lines are
 * written outside any trace (the export runs in the context of whichever request
 * ended the batch's first span, which would be a misleading trace id).
 *
 * At shutdown, when the backend is known to be down and still refuses connections,
 * the last batches are counted as lost at once instead of waiting out the exporter's
 * retries against a dead endpoint (a developer without a local collector would
 * otherwise wait ten seconds for every Ctrl-C).
 */
export class MonitoredExporter implements SpanExporter {
  readonly stats: ExportStats = { exportedSpans: 0, lostSpans: 0, failedBatches: 0 };
  private failingSince: number | undefined;
  private lostInOutage = 0;
  private dropAll = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly logger: Logger,
    private readonly target: string,
    private readonly probe: (target: string) => Promise<boolean> = canConnect,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.dropAll) {
      this.stats.lostSpans += spans.length;
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    let settled = false;
    const done = (result: ExportResult) => {
      if (settled) return;
      settled = true;
      context.with(ROOT_CONTEXT, () => this.record(spans.length, result));
      // The failure is reported here, once per outage; the batch processor would log
      // every failed batch again through the global error handler.
      resultCallback({ code: ExportResultCode.SUCCESS });
    };
    try {
      this.inner.export(spans, done);
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  /** Checks once at start-up whether the backend is reachable, so a missing local collector is explained, not discovered. */
  async checkReachable(): Promise<boolean> {
    const reachable = await this.probe(this.target);
    if (!reachable && this.failingSince === undefined) {
      this.failingSince = Date.now();
      context.with(ROOT_CONTEXT, () =>
        this.logger.warn({ component: 'otel', target: this.target }, 'nothing accepts OTLP at the trace endpoint yet; spans are kept trying (see README: seeing traces)'),
      );
    }
    return reachable;
  }

  /** Called before the final flush: decides whether that flush can reach the backend at all. */
  async prepareShutdown(): Promise<void> {
    if (this.failingSince === undefined) return;
    if (await this.probe(this.target)) return;
    this.dropAll = true;
  }

  shutdown(): Promise<void> {
    if (this.dropAll || this.stats.lostSpans > 0) {
      context.with(ROOT_CONTEXT, () =>
        this.logger.warn({ component: 'otel', target: this.target, ...this.stats }, 'spans not exported: the trace backend was unreachable'),
      );
    }
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  private record(count: number, result: ExportResult): void {
    if (result.code === ExportResultCode.SUCCESS) {
      this.stats.exportedSpans += count;
      if (this.failingSince !== undefined) {
        this.logger.info(
          { component: 'otel', target: this.target, lostSpans: this.lostInOutage, outageMs: Date.now() - this.failingSince },
          'span export working',
        );
        this.failingSince = undefined;
        this.lostInOutage = 0;
      }
      return;
    }
    this.stats.lostSpans += count;
    this.stats.failedBatches += 1;
    const firstFailure = this.lostInOutage === 0;
    this.lostInOutage += count;
    if (firstFailure) {
      this.failingSince ??= Date.now();
      this.logger.warn(
        { component: 'otel', target: this.target, spans: count, reason: result.error?.message ?? 'unknown' },
        'span export failing; will report again when it recovers',
      );
    }
  }
}
