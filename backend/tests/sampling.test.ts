import { afterEach, describe, expect, inject, it } from 'vitest';
import { connectChat } from '../testing/chat-client';
import { inParallel } from '../testing/load';
import { startOtlpReceiver, type OtlpReceiver } from '../testing/otlp-receiver';
import { api, startServer, testEnv, tokenFor, uniqueUser, type ServerProcess } from '../testing/server-process';

const PARENT = '00f067aa0ba902b7';

describe('sampling: the ratio, what is always kept, and the trust boundary', () => {
  let receiver: OtlpReceiver | undefined;
  let server: ServerProcess | undefined;

  afterEach(async () => {
    await server?.stop();
    await receiver?.close();
    server = undefined;
    receiver = undefined;
  });

  async function start(env: Record<string, string>) {
    receiver = await startOtlpReceiver();
    server = await startServer({
      env: { ...testEnv(inject('databaseUrl'), receiver.url), OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', ...env },
    });
    return { receiver, server };
  }

  /** Waits for a forced marker request, then returns the server spans exported before it. */
  async function serverSpansUpTo(receiver: OtlpReceiver, server: ServerProcess) {
    const marker = await api(server, 'GET', '/api/sessions/not-a-uuid', { headers: { 'x-force-sample': 'true' } });
    await receiver.waitForSpan((span) => span.traceId === marker.headers.get('x-trace-id'));
    return receiver
      .spans()
      .filter((span) => span.kind === 'SERVER' && span.traceId !== marker.headers.get('x-trace-id'));
  }

  it('when the ratio is 0, then nothing is sampled except x-force-sample, payments and a sampled traceparent; an unsampled traceparent stays unsampled unless forced', async () => {
    const { receiver, server } = await start({ OTEL_TRACES_SAMPLER_ARG: '0' });
    const token = await tokenFor(uniqueUser());
    const { body: session } = await api(server, 'POST', '/api/sessions', { token, body: { title: 'Cellar' } });

    const plain = await api(server, 'GET', '/api/sessions', { token, headers: { 'x-request-id': 'plain-1' } });
    const forced = await api(server, 'GET', '/api/sessions', { token, headers: { 'x-force-sample': 'true' } });
    const payment = await api(server, 'POST', '/api/payments', {
      token,
      body: { sessionId: session.id, amountCents: 100, currency: 'EUR' },
    });
    const sampledParent = '1'.repeat(32);
    const unsampledParent = '2'.repeat(32);
    const overridden = '3'.repeat(32);
    await api(server, 'GET', '/api/sessions', { token, headers: { traceparent: `00-${sampledParent}-${PARENT}-01` } });
    const unsampled = await api(server, 'GET', '/api/sessions', {
      token,
      headers: { traceparent: `00-${unsampledParent}-${PARENT}-00` },
    });
    await api(server, 'GET', '/api/sessions', {
      token,
      headers: { traceparent: `00-${overridden}-${PARENT}-00`, 'x-force-sample': 'true' },
    });

    const spans = await serverSpansUpTo(receiver, server);
    const byTrace = new Map(spans.map((span) => [span.traceId, span]));
    expect(byTrace.has(plain.headers.get('x-trace-id')!)).toBe(false);
    expect(byTrace.get(forced.headers.get('x-trace-id')!)?.attributes['sampling.reason']).toBe('force-header');
    expect(byTrace.get(payment.headers.get('x-trace-id')!)).toMatchObject({
      name: 'POST /api/payments',
      attributes: { 'sampling.reason': 'critical-operation' },
    });
    expect(byTrace.get(sampledParent)?.parentSpanId).toBe(PARENT);
    expect(byTrace.has(unsampledParent)).toBe(false);
    // the trace id is continued even when not sampled, so logs still join up downstream
    expect(unsampled.headers.get('x-trace-id')).toBe(unsampledParent);
    expect(byTrace.get(overridden)).toMatchObject({
      parentSpanId: PARENT,
      attributes: { 'sampling.reason': 'force-header' },
    });
    // forced, payment, sampled parent, overridden: nothing else (not the session's creation)
    expect(spans).toHaveLength(4);
    const line = await server.waitForLog(
      (entry) => entry.request_id === 'plain-1' && entry.msg === 'request completed',
    );
    expect(line).toMatchObject({ trace_id: plain.headers.get('x-trace-id'), trace_flags: '00' });
  });

  it('when a chat connection is forced, then its messages are traced at ratio 0; an ordinary one is not', async () => {
    const { receiver, server } = await start({ OTEL_TRACES_SAMPLER_ARG: '0' });
    const token = await tokenFor(uniqueUser());
    const { body: session } = await api(server, 'POST', '/api/sessions', { token, body: { title: 'Shed' } });
    const variants: Array<Record<string, string>> = [{ 'x-force-sample': 'true' }, {}];
    for (const headers of variants) {
      const chat = await connectChat(server.url, { token, headers });
      expect((await chat.send({ sessionId: session.id, content: 'hello' })).ok).toBe(true);
      await chat.nextReply();
      chat.close();
    }
    await serverSpansUpTo(receiver, server);
    const events = receiver.spans().filter((span) => span.name === 'socket.io chat:user_message');
    expect(events).toHaveLength(1);
    const trace = receiver.trace(events[0]!.traceId).map((span) => span.name);
    expect(trace).toEqual(
      expect.arrayContaining([
        'socket.io chat:user_message',
        'invoke_agent renovation-assistant',
        'chat gemini-2.5-flash',
        'INSERT messages',
      ]),
    );
    // the forced connection's own span is kept too, and the event links to it
    const connections = receiver.spans().filter((span) => span.name === 'socket.io connection');
    expect(connections).toHaveLength(1);
    expect(events[0]!.links[0]?.spanId).toBe(connections[0]!.spanId);
  });

  it('when forced requests exceed the trusted rate, then the excess falls back to the ratio', async () => {
    const { receiver, server } = await start({
      OTEL_TRACES_SAMPLER_ARG: '0',
      TRACE_TRUSTED_SAMPLES_PER_SECOND: '2',
      TRACE_TRUSTED_SAMPLES_BURST: '5',
    });
    const started = Date.now();
    const responses = await inParallel(40, 4, () =>
      api(server, 'GET', '/api/sessions', { headers: { 'x-force-sample': 'true' } }),
    );
    const seconds = (Date.now() - started) / 1000;
    const ids = new Set(responses.map((response) => response.headers.get('x-trace-id')));
    expect(ids.size).toBe(40);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const kept = receiver.spans().filter((span) => span.kind === 'SERVER' && ids.has(span.traceId)).length;
    expect(kept).toBeGreaterThanOrEqual(5);
    expect(kept).toBeLessThanOrEqual(5 + Math.ceil(seconds * 2) + 1);
  });

  it('when the ratio is 0.1 over 1,000 requests, then the sampled count is within binomial bounds', async () => {
    const { receiver, server } = await start({ OTEL_TRACES_SAMPLER_ARG: '0.1' });
    const responses = await inParallel(1000, 20, () => api(server, 'GET', '/api/sessions'));
    const ids = new Set(responses.map((response) => response.headers.get('x-trace-id')));
    expect(ids.size).toBe(1000);
    const marker = await api(server, 'GET', '/api/sessions', { headers: { 'x-force-sample': 'true' } });
    await receiver.waitForSpan((span) => span.traceId === marker.headers.get('x-trace-id'));
    const kept = receiver.spans().filter((span) => span.kind === 'SERVER' && ids.has(span.traceId)).length;
    // mean 100, standard deviation 9.5: ±4.7 sd fails once in a million runs
    expect(kept).toBeGreaterThanOrEqual(55);
    expect(kept).toBeLessThanOrEqual(145);
  });
});
