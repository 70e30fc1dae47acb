import { DiagLogLevel, diag, type DiagLogger } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tracingFailed } from './failure';
import { SpanHygieneProcessor } from './export/span-hygiene';

let warnings: { message: string; args: unknown[] }[];

beforeEach(() => {
  warnings = [];
  const capture: DiagLogger = {
    error: () => {},
    warn: (message, ...args) => warnings.push({ message, args }),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(capture, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
});

afterEach(() => {
  diag.disable();
});

describe('tracingFailed', () => {
  it('when the same place fails again and again, then it is logged once, with the error', () => {
    const boom = new Error('attribute limit broke');
    for (let i = 0; i < 3; i += 1) tracingFailed('failure.test place A', boom);
    tracingFailed('failure.test place B', 'not an error object');

    expect(warnings.map((w) => w.message)).toEqual([
      'tracing failed in failure.test place A; the operation goes on untraced there (reported once)',
      'tracing failed in failure.test place B; the operation goes on untraced there (reported once)',
    ]);
    expect(warnings[0]?.args).toEqual([boom]);
    expect((warnings[1]?.args[0] as Error | undefined)?.message).toBe('not an error object');
  });
});

describe('SpanHygieneProcessor when redaction itself fails', () => {
  it('then the span still ends and is exported without any attribute, event or status message, and the failure is logged', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      spanProcessors: [new SpanHygieneProcessor(), new SimpleSpanProcessor({ exporter })],
    });
    const span = provider
      .getTracer('t')
      .startSpan('op', { attributes: { 'db.query.text': 'select 1', secretish: 'Bearer abc.def.ghi' } });
    span.addEvent('exception', { 'exception.message': 'token=abc' });
    span.setStatus({ code: 2, message: 'failed with token=abc' });
    // an event whose attributes cannot be read: the redaction pass throws on it
    const events = (span as unknown as { events: { attributes?: object }[] }).events;
    events[0]!.attributes = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('unreadable attributes');
        },
      },
    );

    expect(() => span.end()).not.toThrow();

    const [exported] = exporter.getFinishedSpans();
    expect(exported?.name).toBe('op');
    expect(exported?.attributes).toEqual({});
    expect(exported?.events).toEqual([]);
    expect(exported?.status).toEqual({ code: 2 });
    expect(warnings.map((w) => w.message)).toContain(
      'tracing failed in SpanHygieneProcessor; the operation goes on untraced there (reported once)',
    );
  });
});
