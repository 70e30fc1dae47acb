import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setRequestId } from '../telemetry/request-id';
import { captureLogs } from '../../testing/log-capture';

const capture = () => captureLogs('info');

describe('logger trace correlation', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  const tracer = new TracerProvider().getTracer('logger-test');

  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  afterAll(() => {
    context.disable();
  });

  it('when a span is active, then the line carries its trace_id, span_id and trace_flags', async () => {
    const { lines, logger } = capture();
    const span = tracer.startSpan('test.operation');
    await context.with(trace.setSpan(context.active(), span), async () => {
      await Promise.resolve();
      logger.info('inside');
    });
    span.end();
    const { traceId, spanId } = span.spanContext();
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'inside', level: 'info', trace_id: traceId, span_id: spanId, trace_flags: '01' }),
    ]);
  });

  it('when no span is active, then the line carries no ids at all, not empty ones', () => {
    const { lines, logger } = capture();
    context.with(ROOT_CONTEXT, () => logger.info('outside'));
    expect(lines).toHaveLength(1);
    expect(Object.keys(lines[0]!).sort()).toEqual(['level', 'msg', 'pid', 'time']);
  });

  it('when metadata is passed, then it is kept beside the ids, and the caller wins on a clash', () => {
    const { lines, logger } = capture();
    const span = tracer.startSpan('test');
    context.with(setRequestId(trace.setSpan(ROOT_CONTEXT, span), 'req-1'), () => {
      logger.info({ userId: '123', action: 'login' }, 'with metadata');
      logger.info({ trace_id: 'explicit' }, 'explicit id');
    });
    span.end();
    expect(lines[0]).toMatchObject({
      userId: '123',
      action: 'login',
      trace_id: span.spanContext().traceId,
      request_id: 'req-1',
    });
    expect(lines[1]).toMatchObject({ trace_id: 'explicit', span_id: span.spanContext().spanId });
  });

  it('when the span is not sampled, then the flags say so', () => {
    const { lines, logger } = capture();
    const unsampled = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0 });
    context.with(trace.setSpan(ROOT_CONTEXT, unsampled), () => logger.info('unsampled'));
    expect(lines[0]).toMatchObject({ trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16), trace_flags: '00' });
  });
});
