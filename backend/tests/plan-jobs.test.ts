import IORedis from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGeminiStandIn, type GeminiStandIn } from '../src/dev/gemini-stand-in/server';
import { connectChat, type ChatClient } from '../testing/chat-client';
import {
  ancestorsOf,
  formatTree,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../testing/otlp-receiver';
import { api, startServer, startWorker, testEnv, type ServerProcess } from '../testing/server-process';
import { newUserSession, startStack, type Stack } from '../testing/stack';

type PlanEvent = {
  sessionId: string;
  planId?: string;
  jobId: string;
  traceparent?: string;
  code?: string;
  message?: string;
};

function nextEvent(chat: ChatClient, event: 'plan:ready' | 'plan:failed', timeoutMs = 30_000): Promise<PlanEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    chat.socket.once(event, (payload: PlanEvent) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

const newPlanSession = (server: ServerProcess, title = 'Farmhouse') =>
  newUserSession(server, { title, budgetCents: 5_000_000 });

const byName = (spans: ReceivedSpan[], name: string) => spans.filter((span) => span.name === name);

describe('plan jobs without Redis: in the API process, same interface and spans', () => {
  let receiver: OtlpReceiver;
  let gemini: GeminiStandIn;
  let server: ServerProcess;

  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ PLAN_JOB_ATTEMPTS: '2', PLAN_JOB_BACKOFF_MS: '100' });
    ({ receiver, gemini, server } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('when a plan is requested, then 202 with a job id, plan:ready on the user’s socket, the plan stored, and one trace from the request through the job to the delivery', async () => {
    const { token, sessionId } = await newPlanSession(server);
    const chat = await connectChat(server.url, { token });
    const ready = nextEvent(chat, 'plan:ready');
    const response = await api(server, 'POST', `/api/sessions/${sessionId}/plan`, { token });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ jobId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const event = await ready;
    chat.close();
    expect(event).toMatchObject({
      sessionId,
      jobId: response.body.jobId,
      planId: expect.any(String),
      traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/),
    });

    const stored = await api(server, 'GET', `/api/sessions/${sessionId}/plan`, { token });
    expect(stored.body.plan).toMatchObject({
      id: event.planId,
      jobId: response.body.jobId,
      content: expect.stringMatching(/^Renovation plan for "Farmhouse"/),
    });
    expect(stored.body.job).toMatchObject({
      id: response.body.jobId,
      status: 'completed',
      attempts: 1,
      error: null,
      planId: event.planId,
    });

    const traceId = response.headers.get('x-trace-id')!;
    expect(event.traceparent!.slice(3, 35)).toBe(traceId);
    await receiver.waitForSpan((span) => span.traceId === traceId && span.name === 'socket.io emit plan:ready');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const spans = receiver.trace(traceId);
    const tree = formatTree(spans);
    const [root] = byName(spans, 'POST /api/sessions/:sessionId/plan');
    const [add] = byName(spans, 'add renovation-plans.generate');
    const [processSpan] = byName(spans, 'process renovation-plans');
    expect(add?.parentSpanId, tree).toBe(root!.spanId);
    expect(add!.kind).toBe('PRODUCER');
    expect(processSpan?.parentSpanId, tree).toBe(add!.spanId);
    expect(processSpan!.kind).toBe('CONSUMER');
    expect(processSpan!.attributes).toMatchObject({ 'job.attempt': 1, 'session.id': sessionId });
    for (const name of [
      'invoke_agent renovation-assistant',
      'chat gemini-2.5-flash',
      'execute_tool get_session_details',
      'INSERT plans',
      'socket.io emit plan:ready',
    ]) {
      const [span] = byName(spans, name);
      expect(span, `${name}\n${tree}`).toBeDefined();
      expect(
        ancestorsOf(spans, span!).map((ancestor) => ancestor.spanId),
        tree,
      ).toContain(processSpan!.spanId);
    }
  });

  it('when every attempt fails, then the job ends failed with its error stored, the user gets plan:failed, and the attempts are ERROR spans', async () => {
    const { token, sessionId } = await newPlanSession(server, 'Barn');
    gemini.enqueue({ status: 500, message: 'backend error' }, { status: 500, message: 'backend error' });
    const chat = await connectChat(server.url, { token });
    const failed = nextEvent(chat, 'plan:failed');
    const response = await api(server, 'POST', `/api/sessions/${sessionId}/plan`, { token });
    const event = await failed;
    chat.close();
    expect(event).toMatchObject({
      sessionId,
      jobId: response.body.jobId,
      code: 'AI_UNAVAILABLE',
      message: expect.any(String),
    });
    const stored = await api(server, 'GET', `/api/sessions/${sessionId}/plan`, { token });
    expect(stored.body).toMatchObject({
      plan: null,
      job: { status: 'failed', attempts: 2, error: expect.stringContaining('AI_UNAVAILABLE') },
    });

    const traceId = response.headers.get('x-trace-id')!;
    await receiver.waitForSpans(
      (spans) =>
        spans.filter((span) => span.traceId === traceId && span.name === 'process renovation-plans').length === 2,
    );
    await receiver.waitForSpan((span) => span.traceId === traceId && span.name === 'socket.io emit plan:failed');
    const attempts = byName(receiver.trace(traceId), 'process renovation-plans');
    expect(attempts.map((span) => [span.attributes['job.attempt'], span.status.code])).toEqual([
      [1, 'ERROR'],
      [2, 'ERROR'],
    ]);
    for (const span of attempts) expect(span.events.map((e) => e.name)).toContain('exception');
  });
});

describe('plan jobs when Redis is down', () => {
  it('when Redis does not answer, then POST …/plan fails fast with 503 and the job is recorded as failed, instead of hanging', async () => {
    const stack = await startStack({ REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const { token, sessionId } = await newPlanSession(stack.server, 'Tower');
      const started = Date.now();
      const response = await api(stack.server, 'POST', `/api/sessions/${sessionId}/plan`, { token });
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(8_000);
      const stored = await api(stack.server, 'GET', `/api/sessions/${sessionId}/plan`, { token });
      expect(stored.body.job).toMatchObject({
        status: 'failed',
        error: expect.stringContaining('SERVICE_UNAVAILABLE'),
      });
      expect((await api(stack.server, 'GET', '/ready')).body).toEqual({
        error: { code: 'SERVICE_UNAVAILABLE', message: 'not ready' },
      });
    } finally {
      await stack.stop();
    }
  });
});

const redisUrl = inject('redisUrl');

describe.skipIf(!redisUrl)('plan jobs on Redis: two API instances and a worker, traced as one system', () => {
  const prefix = `rabtest${process.pid}${Date.now().toString(36)}`;
  let receiver: OtlpReceiver;
  let gemini: GeminiStandIn;
  let api1: ServerProcess;
  let api2: ServerProcess;
  const workers: ServerProcess[] = [];

  const shared = () => ({
    ...testEnv(inject('databaseUrl'), receiver.url),
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    GEMINI_BASE_URL: gemini.baseUrl,
    GEMINI_API_KEY: 'test-key',
    GEMINI_MAX_RETRIES: '0',
    PLAN_JOB_ATTEMPTS: '2',
    PLAN_JOB_BACKOFF_MS: '200',
    PLAN_JOB_LOCK_MS: '1500',
    PLAN_JOB_STALLED_INTERVAL_MS: '1000',
  });
  const worker = async () => {
    const started = await startWorker(shared());
    workers.push(started);
    return started;
  };

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    gemini = await startGeminiStandIn({ chunkDelayMs: 0 });
    [api1, api2] = await Promise.all([
      startServer({ env: { ...shared(), OTEL_SERVICE_NAME: 'api-1' } }),
      startServer({ env: { ...shared(), OTEL_SERVICE_NAME: 'api-2' } }),
    ]);
  });

  afterEach(async () => {
    for (const started of workers.splice(0)) await started.stop();
  });

  afterAll(async () => {
    await Promise.all([api1?.stop(), api2?.stop()]);
    await gemini?.close();
    await receiver?.close();
    const redis = new IORedis(redisUrl);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('when a plan is requested on instance 1 and the user’s socket is on instance 2, then the worker’s job and the delivery on instance 2 are in the request’s trace', async () => {
    await worker();
    const { token, sessionId } = await newPlanSession(api1);
    const chat = await connectChat(api2.url, { token });
    const ready = nextEvent(chat, 'plan:ready');
    const response = await api(api1, 'POST', `/api/sessions/${sessionId}/plan`, { token });
    expect(response.status).toBe(202);
    const event = await ready;
    chat.close();
    expect(event).toMatchObject({ sessionId, jobId: response.body.jobId, planId: expect.any(String) });

    const traceId = response.headers.get('x-trace-id')!;
    await receiver.waitForSpan((span) => span.traceId === traceId && span.name === 'socket.io deliver plan:ready');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const spans = receiver.trace(traceId);
    const tree = formatTree(spans);
    const service = (span: ReceivedSpan) => span.resource['service.name'];
    const [root] = byName(spans, 'POST /api/sessions/:sessionId/plan');
    const [add] = byName(spans, 'add renovation-plans.generate');
    const [job] = byName(spans, 'process renovation-plans');
    const [emit] = byName(spans, 'socket.io emit plan:ready');
    const [deliver] = byName(spans, 'socket.io deliver plan:ready');
    expect(
      [root, add, job, emit, deliver].map((span) => span && service(span)),
      tree,
    ).toEqual(['api-1', 'api-1', 'renovation-agent-worker', 'renovation-agent-worker', 'api-2']);
    expect(job!.parentSpanId, tree).toBe(add!.spanId);
    expect(ancestorsOf(spans, job!).at(-1)?.spanId, tree).toBe(root!.spanId);
    expect(deliver!.parentSpanId, tree).toBe(emit!.spanId);
    expect(deliver!.kind).toBe('CONSUMER');
    for (const name of [
      'invoke_agent renovation-assistant',
      'chat gemini-2.5-flash',
      'execute_tool get_session_details',
      'INSERT plans',
    ]) {
      const [span] = byName(spans, name);
      expect(span && service(span), `${name}\n${tree}`).toBe('renovation-agent-worker');
      expect(ancestorsOf(spans, span!).map((ancestor) => ancestor.spanId)).toContain(job!.spanId);
    }
    // Redis commands appear inside traced work only, never as roots of their own (no polling noise)
    const redisRoots = receiver
      .spans()
      .filter((span) => span.attributes['db.system.name'] === 'redis' || span.attributes['db.system'] === 'redis')
      .filter((span) => span.parentSpanId === undefined);
    expect(redisRoots.map((span) => span.name)).toEqual([]);
    expect(
      spans.some((span) => span.attributes['db.system.name'] === 'redis' || span.attributes['db.system'] === 'redis'),
    ).toBe(true);
  });

  it('when the worker is killed mid-job and a new one starts, then the job runs again, completes once, stores one plan, and the trace shows the second run', async () => {
    const first = await worker();
    const { token, sessionId } = await newPlanSession(api1, 'Mill');
    const chat = await connectChat(api2.url, { token });
    const ready = nextEvent(chat, 'plan:ready', 45_000);
    const before = gemini.requests.length;
    // the first run's model call streams slowly, so the worker dies in the middle of it
    gemini.enqueue({ text: 'slow '.repeat(60), delayMs: 100 });
    const response = await api(api1, 'POST', `/api/sessions/${sessionId}/plan`, { token });
    await expect.poll(() => gemini.requests.length, { timeout: 15_000 }).toBeGreaterThan(before);
    first.child.kill('SIGKILL');
    await first.exited();
    await worker();
    const event = await ready;
    chat.close();
    expect(event.jobId).toBe(response.body.jobId);

    const stored = await api(api1, 'GET', `/api/sessions/${sessionId}/plan`, { token });
    expect(stored.body).toMatchObject({ plan: { id: event.planId }, job: { status: 'completed', attempts: 2 } });
    const { default: pg } = await import('pg');
    const db = new pg.Client({ connectionString: inject('databaseUrl') });
    await db.connect();
    const { rows } = await db.query('SELECT count(*)::int AS plans FROM plans WHERE job_id = $1', [
      response.body.jobId,
    ]);
    await db.end();
    expect(rows[0].plans).toBe(1);

    const traceId = response.headers.get('x-trace-id')!;
    const processSpan = await receiver.waitForSpan(
      (span) => span.traceId === traceId && span.name === 'process renovation-plans',
    );
    expect(processSpan.attributes).toMatchObject({ 'job.attempt': 2, 'job.stalled_recovery': true });
    expect(processSpan.resource['service.name']).toBe('renovation-agent-worker');
    const [add] = byName(receiver.trace(traceId), 'add renovation-plans.generate');
    expect(processSpan.parentSpanId).toBe(add!.spanId);
  }, 90_000);

  it('when a job fails every attempt, then it ends failed with its error stored, plan:failed reaches instance 2, and the attempts are ERROR spans', async () => {
    await worker();
    const { token, sessionId } = await newPlanSession(api1, 'Chapel');
    gemini.enqueue({ status: 503, message: 'overloaded' }, { status: 503, message: 'overloaded' });
    const chat = await connectChat(api2.url, { token });
    const failed = nextEvent(chat, 'plan:failed');
    const response = await api(api1, 'POST', `/api/sessions/${sessionId}/plan`, { token });
    const event = await failed;
    chat.close();
    expect(event).toMatchObject({ sessionId, jobId: response.body.jobId, code: 'AI_UNAVAILABLE' });
    const stored = await api(api2, 'GET', `/api/sessions/${sessionId}/plan`, { token });
    expect(stored.body).toMatchObject({
      plan: null,
      job: { status: 'failed', attempts: 2, error: expect.stringContaining('AI_UNAVAILABLE') },
    });

    const traceId = response.headers.get('x-trace-id')!;
    await receiver.waitForSpans(
      (spans) =>
        spans.filter((span) => span.traceId === traceId && span.name === 'process renovation-plans').length === 2,
    );
    const attempts = byName(receiver.trace(traceId), 'process renovation-plans');
    expect(attempts.map((span) => span.status.code)).toEqual(['ERROR', 'ERROR']);
    for (const span of attempts) expect(span.events.map((e) => e.name)).toContain('exception');
    await receiver.waitForSpan((span) => span.traceId === traceId && span.name === 'socket.io deliver plan:failed');
  });
});
