import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatTree, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../testing/otlp-receiver';
import { api, startServer, testEnv, tokenFor, uniqueUser, type ServerProcess } from '../testing/server-process';

describe('HTTP tracing (real server, real PostgreSQL, OTLP receiver)', () => {
  let receiver: OtlpReceiver;
  let server: ServerProcess;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    server = await startServer({ env: testEnv(inject('databaseUrl'), receiver.url) });
  });

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  async function traceOf(traceId: string, rootName: string): Promise<ReceivedSpan[]> {
    await receiver.waitForSpan((span) => span.traceId === traceId && span.name === rootName && span.kind === 'SERVER');
    // the root ends last; give its children's batch a moment when they were split
    await new Promise((resolve) => setTimeout(resolve, 250));
    return receiver.trace(traceId);
  }

  it('when a session is fetched, then the trace is the SERVER span → pg spans with SQL text, and nothing is orphaned', async () => {
    const userId = uniqueUser();
    const token = await tokenFor(userId);
    const created = await api(server, 'POST', '/api/sessions', {
      token,
      body: { title: 'Bathroom refit', budgetCents: 1_200_000 },
    });
    expect(created.status).toBe(201);

    const response = await api(server, 'GET', `/api/sessions/${created.body.id}`, {
      token,
      headers: { 'x-request-id': 'support-ticket-42' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: created.body.id, title: 'Bathroom refit', messages: [] });
    expect(response.headers.get('x-request-id')).toBe('support-ticket-42');
    const traceId = response.headers.get('x-trace-id');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const spans = await traceOf(traceId!, 'GET /api/sessions/:sessionId');
    const tree = formatTree(spans);
    const root = spans.find((span) => span.kind === 'SERVER')!;
    expect(root.parentSpanId, tree).toBeUndefined();
    expect(root.attributes).toMatchObject({
      'http.route': '/api/sessions/:sessionId',
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'request.id': 'support-ticket-42',
      'enduser.id': userId,
      'session.id': created.body.id,
    });
    expect(root.resource).toMatchObject({
      'service.name': 'renovation-agent-backend',
      'deployment.environment.name': 'test',
    });
    expect(root.resource['service.version']).toMatch(/^\d+\.\d+\.\d+/);

    const queries = spans.filter(
      (span) => span.attributes['db.system.name'] === 'postgresql' || span.attributes['db.query.text'] !== undefined,
    );
    expect(queries.length, tree).toBeGreaterThanOrEqual(2);
    for (const query of queries) {
      expect(query.kind).toBe('CLIENT');
      expect(String(query.attributes['db.query.text'])).toMatch(/^select .* from "(renovation_sessions|messages)"/i);
      expect(query.name).toMatch(/^SELECT (renovation_sessions|messages)$/);
      expect(query.attributes['db.operation.name']).toBe('SELECT');
      expect(query.parentSpanId, tree).toBe(root.spanId);
      // parameter values are not recorded by default
      expect(
        Object.keys(query.attributes).filter((key) => key.startsWith('db.query.parameter')),
        tree,
      ).toEqual([]);
    }
    // every span's parent is in the trace: no orphans
    const ids = new Set(spans.map((span) => span.spanId));
    for (const span of spans) if (span !== root) expect(ids.has(span.parentSpanId!), tree).toBe(true);
    // no middleware, router or handler spans, no pool-connect spans: the server span and its queries
    expect(spans.map((span) => span.name).sort(), tree).toEqual([
      'GET /api/sessions/:sessionId',
      'SELECT messages',
      'SELECT renovation_sessions',
    ]);
    // attributes nobody reads are not exported
    expect(Object.keys(root.attributes).filter((key) => key.startsWith('network.') || key === 'url.scheme')).toEqual(
      [],
    );
  });

  it('when a request is served, then its log lines carry its trace id, and lines outside any span carry none', async () => {
    const token = await tokenFor(uniqueUser());
    const response = await api(server, 'GET', '/api/sessions', { token });
    expect(response.status).toBe(200);
    const traceId = response.headers.get('x-trace-id')!;
    const requestId = response.headers.get('x-request-id')!;

    const line = await server.waitForLog(
      (entry) => entry.msg === 'request completed' && entry.request_id === requestId,
    );
    expect(line).toMatchObject({
      trace_id: traceId,
      trace_flags: '01',
      method: 'GET',
      route: '/api/sessions',
      status: 200,
    });
    expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof line.duration_ms).toBe('number');

    const startup = server
      .logs()
      .filter((entry) => entry.msg === 'tracing started' || String(entry.msg).startsWith('listening on'));
    expect(startup).toHaveLength(2);
    for (const entry of startup) {
      expect(entry).not.toHaveProperty('trace_id');
      expect(entry).not.toHaveProperty('span_id');
    }
  });

  it('when a client sends a sampled traceparent, then the server span continues that trace', async () => {
    const token = await tokenFor(uniqueUser());
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const response = await api(server, 'GET', '/api/sessions', {
      token,
      headers: { traceparent: `00-${traceId}-${parentId}-01` },
    });
    expect(response.headers.get('x-trace-id')).toBe(traceId);
    const root = await receiver.waitForSpan((span) => span.traceId === traceId && span.kind === 'SERVER');
    expect(root.parentSpanId).toBe(parentId);
  });

  it('when a payment is made, then the critical operation is traced with its route, session and user', async () => {
    const userId = uniqueUser();
    const token = await tokenFor(userId);
    const session = await api(server, 'POST', '/api/sessions', { token, body: { title: 'Roof' } });
    const payment = await api(server, 'POST', '/api/payments', {
      token,
      body: { sessionId: session.body.id, amountCents: 2500, currency: 'eur' },
    });
    expect(payment.status).toBe(201);
    expect(payment.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'pending' });

    const root = await receiver.waitForSpan(
      (span) => span.traceId === payment.headers.get('x-trace-id') && span.kind === 'SERVER',
    );
    expect(root.name).toBe('POST /api/payments');
    expect(root.attributes).toMatchObject({
      'http.response.status_code': 201,
      'enduser.id': userId,
      'session.id': session.body.id,
    });
    const spans = await traceOf(root.traceId, 'POST /api/payments');
    expect(spans.some((span) => /^insert into "payments"/i.test(String(span.attributes['db.query.text'])))).toBe(true);
  });

  it('when a probe calls /health or /ready, then it is answered and not traced', async () => {
    const health = await api(server, 'GET', '/health');
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(health.headers.get('x-request-id')).toBeTruthy();
    const ready = await api(server, 'GET', '/ready');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready' } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(
      receiver.spans().filter((span) => /health|ready/.test(span.name) || span.attributes['url.path'] === '/health'),
    ).toEqual([]);
  });
});
