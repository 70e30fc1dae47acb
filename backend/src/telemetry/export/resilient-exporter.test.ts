import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../../testing/otlp-receiver';
import { captureLogs } from '../../../testing/log-capture';
import { ResilientExporter } from './resilient-exporter';

function spans(count: number): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] }).getTracer('t');
  for (let i = 0; i < count; i++) tracer.startSpan(`span-${i}`, { kind: SpanKind.INTERNAL }).end();
  return memory.getFinishedSpans();
}

describe('ResilientExporter (real OTLP exporter, real receiver)', () => {
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
  });

  function exporterFor(url: string, maxBufferedSpans: number) {
    const log = captureLogs();
    // a timeout longer than a loaded machine's answer: an attempt that times out after the receiver
    // took it is sent again (delivery is at least once), which would show up as a duplicate here
    const exporter = new ResilientExporter(new OTLPTraceExporter({ url: `${url}/v1/traces`, timeoutMillis: 2_000 }), {
      logger: log.logger,
      target: url,
      maxBufferedSpans,
      maxBatchSize: 100,
      maxRetryDelayMs: 100,
      dropLogIntervalMs: 50,
    });
    return { exporter, ...log };
  }

  it('when the backend is down, then at most the bound is kept, the oldest go first, and drops are counted and logged', async () => {
    receiver = await startOtlpReceiver();
    await receiver.setMode('refuse');
    const { exporter, lines } = exporterFor(receiver.url, 500);
    const all = spans(2_000);
    for (let i = 0; i < all.length; i += 100) exporter.export(all.slice(i, i + 100), () => {});
    expect(exporter.pipeline.bufferedSpans).toBeLessThanOrEqual(500);
    expect(exporter.pipeline.droppedSpans).toBeGreaterThanOrEqual(1_500 - 100);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(lines.some((line) => line.msg === 'span buffer full: oldest spans dropped')).toBe(true);

    await receiver.setMode('ok');
    await exporter.flush(Date.now() + 5_000);
    const received = receiver.spans().map((span) => span.name);
    // what survived is the newest, in order, each once
    expect(received.at(-1)).toBe('span-1999');
    expect(new Set(received).size).toBe(received.length);
    expect(received.length + exporter.pipeline.droppedSpans).toBe(2_000);
    expect(exporter.pipeline.bufferedSpans).toBe(0);
  });

  it('when the backend answers 413 to a big batch, then it is split in halves until it fits', async () => {
    receiver = await startOtlpReceiver();
    await receiver.setMode({ status: 413 });
    const { exporter, lines } = exporterFor(receiver.url, 1_000);
    exporter.export(spans(4), () => {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    // 4 → 2 + 2 → 1 + 1 + 1 + 1, each refused: all four counted as rejected, none retried forever, one log line
    expect(exporter.pipeline).toMatchObject({ rejectedSpans: 4, bufferedSpans: 0 });
    expect(receiver.requests().map((request) => request.spanCount)).toEqual([4, 2, 1, 1, 2, 1, 1]);
    expect(
      lines.filter(
        (line) =>
          line.msg === 'the trace backend refused spans; they are dropped (check endpoint, headers and API key)',
      ),
    ).toHaveLength(1);
  });
});
