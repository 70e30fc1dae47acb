import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import { countSpansExported } from '../metrics/instruments';
import { canConnect } from './probe';

export interface ExportStats {
  /** Spans the backend accepted. */
  exportedSpans: number;
  /** Export attempts that failed and were kept for another try. */
  retriedBatches: number;
  /** Spans dropped because the buffer was full (oldest first). */
  droppedSpans: number;
  /** Spans the backend refused for good (400, 401, 403, 404, 413 …). */
  rejectedSpans: number;
  /** Spans waiting now. */
  bufferedSpans: number;
}

export interface ResilientExporterOptions {
  logger: Logger;
  /** Where spans go, for log lines only. */
  target: string;
  /** Most spans kept while the backend is unreachable; beyond, the oldest are dropped. */
  maxBufferedSpans: number;
  /** Spans per export request; smaller requests mean shorter pauses of the event loop while one is serialised. */
  maxBatchSize: number;
  /** Longest pause between two attempts during an outage. */
  maxRetryDelayMs: number;
  /** Time allowed for one attempt (OTEL_BSP_EXPORT_TIMEOUT); a slower one counts as failed and is tried again. */
  exportTimeoutMs?: number;
  /** At most one "dropped" warning per this interval. */
  dropLogIntervalMs?: number;
  /** Whether the target accepts connections (answers within `timeoutMs`, or says nothing by then). */
  probe?: (target: string, timeoutMs?: number) => Promise<boolean>;
  /** How many spans ended into the pipeline so far (see `SentSpanCounter`): what the batch queue dropped is the difference. */
  sentSpans?: () => number;
}

// Answers that will not change by retrying: the request or our credentials are wrong.
const PERMANENT_STATUSES = new Set([400, 401, 403, 404, 405, 413, 415]);

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Keeps spans through a backend outage. The batch processor hands a batch over and is
 * told "done" at once; batches wait here, oldest first, and are sent one at a time (the
 * wrapped OTLP exporter retries each a few times itself). When a send fails for a
 * reason that can pass (network, 429, 5xx, timeout) the batch stays first in line and
 * is tried again with growing pauses, until the backend answers; then everything
 * waiting is sent, in order. The buffer is bounded by a span count: when full, the
 * oldest spans are dropped, counted, and reported at most once per interval. Permanent
 * refusals are logged with their cause and dropped (a 413 is split in halves first).
 * Nothing here runs on a request's path, and log lines are written outside any trace.
 */
export class ResilientExporter implements SpanExporter {
  private readonly queue: ReadableSpan[][] = [];
  /** Halves of a batch the backend found too large: sent as they are, never merged again. */
  private readonly halves = new WeakSet<ReadableSpan[]>();
  private readonly stats: ExportStats = {
    exportedSpans: 0,
    retriedBatches: 0,
    droppedSpans: 0,
    rejectedSpans: 0,
    bufferedSpans: 0,
  };
  private sending = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private outageSince: number | undefined;
  private droppedSinceLog = 0;
  private lastDropLog = 0;
  private dropLogTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Spans the batch processor handed over, kept or not. */
  private receivedSpans = 0;
  private pumpScheduled = false;
  private failureLogged = false;
  private readonly rejectionsLogged = new Set<number>();
  private shutdownDeadline: number | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly inner: SpanExporter,
    private readonly options: ResilientExporterOptions,
  ) {}

  get pipeline(): Readonly<ExportStats> {
    return { ...this.stats };
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.receivedSpans += spans.length;
    // after shutdown a span can only be counted: it stays undelivered
    this.stats.bufferedSpans += spans.length;
    if (spans.length > 0 && !this.closed) {
      this.queue.push(spans);
      this.enforceBound();
      this.schedulePump();
    }
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /**
   * The batch processor exports from inside `span.end()` when its queue fills: sending
   * (and serialising) right there would stall whichever request ended that span.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Checks once at start-up whether the backend accepts connections, so a missing collector is explained, not discovered. */
  async checkReachable(): Promise<boolean> {
    const reachable = await this.accepts();
    if (!reachable && this.outageSince === undefined) {
      this.outageSince = Date.now();
      // the same outage as the first failed export will meet: one warning for both
      this.failureLogged = true;
      this.log(
        'warn',
        { target: this.options.target, cause: 'connection refused' },
        'nothing accepts OTLP at the trace endpoint yet; spans are kept and sent when it answers (see README: seeing traces)',
      );
    }
    return reachable;
  }

  /**
   * Sends what is waiting until `deadline`; what is left is counted, not waited for. A target
   * that refuses connections will not accept them by being retried until the deadline (an
   * attempt may be in flight, retrying inside the OTLP exporter): then nothing is waited for.
   */
  async flush(deadline: number): Promise<void> {
    if (this.queue.length === 0 && !this.sending) return;
    if (!(await this.accepts(Math.min(2_000, Math.max(1, deadline - Date.now()))))) return;
    this.clearRetryTimer();
    this.retryDelayMs = 0;
    this.pump();
    while ((this.queue.length > 0 || this.sending) && Date.now() < deadline) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      const timer = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref());
      await Promise.race([idle, timer]);
      if (this.retryTimer !== undefined) {
        // a failed attempt during the final flush: try again at once while time is left
        this.clearRetryTimer();
        this.pump();
      }
    }
  }

  forceFlush(): Promise<void> {
    return this.flush(Date.now() + 30_000);
  }

  /**
   * Where every span went: `sentSpans` (ended into the pipeline) = `exportedSpans` + `droppedSpans`
   * (buffer full) + `queueFullSpans` (the batch queue was full) + `rejectedSpans` + `undeliveredSpans`.
   */
  get summary(): Record<string, number> {
    const { bufferedSpans, ...rest } = this.stats;
    const sent = this.options.sentSpans?.();
    return {
      ...(sent !== undefined ? { sentSpans: sent, queueFullSpans: Math.max(0, sent - this.receivedSpans) } : {}),
      undeliveredSpans: bufferedSpans,
      ...rest,
    };
  }

  /** Called before the provider shuts down: the final flush (in `shutdown`) may use the time until `deadline`. */
  beginShutdown(deadline: number): void {
    this.shutdownDeadline = deadline;
  }

  /**
   * Sends what is waiting, then reports what could not be delivered. The final flush gets half
   * the time left before the shutdown deadline: a collector that accepts connections and never
   * answers must not hold the exit until the last moment.
   */
  async shutdown(): Promise<void> {
    const deadline = this.shutdownDeadline ?? Date.now() + 5_000;
    await this.flush(Date.now() + Math.max(0, (deadline - Date.now()) / 2));
    this.closed = true;
    this.clearRetryTimer();
    if (this.dropLogTimer !== undefined) clearTimeout(this.dropLogTimer);
    const summary = this.summary;
    countSpansExported(summary.undeliveredSpans ?? 0, 'shutdown');
    if (
      summary.undeliveredSpans! > 0 ||
      summary.droppedSpans! > 0 ||
      summary.rejectedSpans! > 0 ||
      (summary.queueFullSpans ?? 0) > 0
    ) {
      this.log('warn', { target: this.options.target, ...summary }, 'telemetry export stopped with spans undelivered');
    } else
      this.log('info', { target: this.options.target, ...summary }, 'telemetry export stopped; every span delivered');
    // an attempt still in flight against a dead backend must not hold the exit
    if (!this.sending) await this.inner.shutdown().catch(() => undefined);
  }

  private pump(): void {
    if (this.sending || this.retryTimer !== undefined || this.queue.length === 0) {
      if (!this.sending && this.queue.length === 0) this.wakeIdle();
      return;
    }
    const batch = this.takeBatch();
    this.sending = true;
    let settled = false;
    const timeoutMs = this.options.exportTimeoutMs;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              done({
                code: ExportResultCode.FAILED,
                error: new Error(`export attempt took longer than ${timeoutMs} ms (OTEL_BSP_EXPORT_TIMEOUT)`),
              }),
            timeoutMs,
          );
    timer?.unref();
    const done = (result: ExportResult) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      this.sending = false;
      context.with(ROOT_CONTEXT, () => this.settle(batch, result));
    };
    try {
      // outside any request's context: the export must not become part of a trace
      context.with(ROOT_CONTEXT, () => this.inner.export(batch, done));
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  /** The oldest waiting spans, merged up to one batch: catching up after an outage takes fewer requests. */
  private takeBatch(): ReadableSpan[] {
    const first = this.queue.shift()!;
    if (this.halves.has(first)) return first;
    if (first.length >= this.options.maxBatchSize) {
      if (first.length > this.options.maxBatchSize) this.queue.unshift(first.splice(this.options.maxBatchSize));
      return first;
    }
    const batch = [...first];
    while (
      this.queue.length > 0 &&
      !this.halves.has(this.queue[0]!) &&
      batch.length + this.queue[0]!.length <= this.options.maxBatchSize
    ) {
      batch.push(...this.queue.shift()!);
    }
    return batch;
  }

  private settle(batch: ReadableSpan[], result: ExportResult): void {
    if (result.code === ExportResultCode.SUCCESS) {
      this.stats.exportedSpans += batch.length;
      this.stats.bufferedSpans -= batch.length;
      countSpansExported(batch.length);
      if (this.outageSince !== undefined) {
        this.log(
          'info',
          {
            target: this.options.target,
            outageMs: Date.now() - this.outageSince,
            waitingSpans: this.stats.bufferedSpans,
            ...this.counts(),
          },
          'span export working again; sending what was kept',
        );
        this.outageSince = undefined;
        this.failureLogged = false;
      }
      this.retryDelayMs = 0;
      // the next batch in a later turn of the event loop: requests get in between
      this.schedulePump();
      return;
    }

    const status = statusOf(result.error);
    if (status !== undefined && PERMANENT_STATUSES.has(status)) {
      if (status === 413 && batch.length > 1) {
        // too large for the backend: send it in halves
        const middle = Math.ceil(batch.length / 2);
        const halves = [batch.slice(0, middle), batch.slice(middle)];
        for (const half of halves) this.halves.add(half);
        this.queue.unshift(...halves);
      } else {
        this.stats.rejectedSpans += batch.length;
        this.stats.bufferedSpans -= batch.length;
        countSpansExported(batch.length, 'rejected');
        // once per status: every later batch meets the same answer, and the exit line counts them all
        if (!this.rejectionsLogged.has(status)) {
          this.rejectionsLogged.add(status);
          this.log(
            'error',
            { target: this.options.target, status, spans: batch.length, cause: result.error?.message },
            'the trace backend refused spans; they are dropped (check endpoint, headers and API key)',
          );
        }
      }
      this.pump();
      return;
    }

    // may pass: keep the batch first in line and try again later
    this.queue.unshift(batch);
    this.stats.retriedBatches += 1;
    this.outageSince ??= Date.now();
    if (!this.failureLogged) {
      this.failureLogged = true;
      this.log(
        'warn',
        {
          target: this.options.target,
          cause: result.error?.message ?? 'unknown',
          waitingSpans: this.stats.bufferedSpans,
        },
        'span export failing; spans are kept and retried',
      );
    }
    this.retryDelayMs = Math.min(this.options.maxRetryDelayMs, this.retryDelayMs === 0 ? 1_000 : this.retryDelayMs * 2);
    if (!this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, this.retryDelayMs);
      this.retryTimer.unref();
    }
    this.wakeIdle();
  }

  private enforceBound(): void {
    let dropped = 0;
    while (this.stats.bufferedSpans > this.options.maxBufferedSpans && this.queue.length > 0) {
      const oldest = this.queue[0]!;
      const excess = this.stats.bufferedSpans - this.options.maxBufferedSpans;
      if (oldest.length <= excess) {
        this.queue.shift();
        dropped += oldest.length;
        this.stats.bufferedSpans -= oldest.length;
      } else {
        oldest.splice(0, excess);
        dropped += excess;
        this.stats.bufferedSpans -= excess;
      }
    }
    if (dropped === 0) return;
    this.stats.droppedSpans += dropped;
    countSpansExported(dropped, 'buffer_full');
    this.droppedSinceLog += dropped;
    this.reportDrops();
  }

  private reportDrops(): void {
    const interval = this.options.dropLogIntervalMs ?? 10_000;
    const now = Date.now();
    if (now - this.lastDropLog >= interval) {
      this.lastDropLog = now;
      this.log(
        'warn',
        {
          target: this.options.target,
          droppedSpans: this.droppedSinceLog,
          totalDroppedSpans: this.stats.droppedSpans,
          bufferedSpans: this.stats.bufferedSpans,
          maxBufferedSpans: this.options.maxBufferedSpans,
        },
        'span buffer full: oldest spans dropped',
      );
      this.droppedSinceLog = 0;
    } else if (this.dropLogTimer === undefined) {
      this.dropLogTimer = setTimeout(
        () => {
          this.dropLogTimer = undefined;
          if (this.droppedSinceLog > 0) this.reportDrops();
        },
        interval - (now - this.lastDropLog),
      );
      this.dropLogTimer.unref();
    }
  }

  private counts() {
    return {
      exportedSpans: this.stats.exportedSpans,
      retriedBatches: this.stats.retriedBatches,
      droppedSpans: this.stats.droppedSpans,
      rejectedSpans: this.stats.rejectedSpans,
    };
  }

  private accepts(timeoutMs?: number): Promise<boolean> {
    return (this.options.probe ?? canConnect)(this.options.target, timeoutMs);
  }

  private clearRetryTimer(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private log(level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string): void {
    context.with(ROOT_CONTEXT, () => this.options.logger[level]({ component: 'otel', ...fields }, message));
  }
}

/**
 * Counts the sampled spans that end into the export pipeline, ahead of the batch processor: with
 * what reached the exporter, it says how many the batch queue dropped when it was full (the SDK
 * reports those only as a diagnostic and a metric).
 */
export class SentSpanCounter implements SpanProcessor {
  count = 0;

  onStart(): void {}

  onEnd(): void {
    this.count += 1;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
