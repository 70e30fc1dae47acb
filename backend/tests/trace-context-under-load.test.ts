import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGeminiStandIn, type GeminiStandIn } from '../src/dev/gemini-stand-in/server';
import { connectChat, type ChatClient } from '../testing/chat-client';
import { inParallel } from '../testing/load';
import {
  ancestorsOf,
  formatTree,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../testing/otlp-receiver';
import { api, startServer, startWorker, testEnv, type ServerProcess } from '../testing/server-process';
import { newUserSession, startStack, type Stack } from '../testing/stack';

/**
 * Work that waits in a queue and resumes on a callback (a pooled database connection, a
 * model call, a job) must resume in the context of the request that queued it. These
 * tests make the queues real: a pool of 2 connections under 8× as many concurrent
 * requests, and chats from several sockets at once, then check that every trace holds
 * exactly its own spans.
 */
const POOL = 2;
const CONCURRENCY = POOL * 8;

const isSql = (span: ReceivedSpan) => span.attributes['db.system.name'] === 'postgresql';
const sqlNames = (spans: ReceivedSpan[]) =>
  spans
    .filter(isSql)
    .map((span) => span.name)
    .sort();

/** How many traces hold how many SQL spans, e.g. `{2: 198, 3: 1, 1: 1}`: what a failure shows. */
function distribution(traceIds: string[], spans: ReceivedSpan[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const traceId of traceIds) {
    const n = spans.filter((span) => span.traceId === traceId && isSql(span)).length;
    counts[n] = (counts[n] ?? 0) + 1;
  }
  return counts;
}

async function settle(stack: Stack, enough: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  await stack.receiver.waitForSpans(enough, { timeoutMs: 30_000 });
  // a span that would land in the wrong trace arrives with the same batches; give a late one its chance
  await new Promise((resolve) => setTimeout(resolve, 500));
  return stack.receiver.spans();
}

function planReady(chat: ChatClient): Promise<{ jobId: string }> {
  return new Promise((resolve) => chat.socket.once('plan:ready', resolve));
}

/**
 * Several users ask for a plan at once: each job's spans, wherever it ran, must sit in the
 * trace of the request that queued it, below that request's server span, and nowhere else.
 */
async function concurrentPlans(
  apiServer: ServerProcess,
  socketServer: ServerProcess,
  receiver: OtlpReceiver,
  users = 6,
) {
  const sessions = await Promise.all(
    Array.from({ length: users }, (_, i) => newUserSession(apiServer, { title: `House ${i}` })),
  );
  const chats = await Promise.all(sessions.map(({ token }) => connectChat(socketServer.url, { token })));
  const ready = chats.map(planReady);
  const responses = await Promise.all(
    sessions.map(({ token, sessionId }) => api(apiServer, 'POST', `/api/sessions/${sessionId}/plan`, { token })),
  );
  expect(responses.map((response) => response.status)).toEqual(sessions.map(() => 202));
  const events = await Promise.all(ready);
  for (const chat of chats) chat.close();
  expect(events.map((event) => event.jobId).sort()).toEqual(responses.map((response) => response.body.jobId).sort());

  const traceIds = responses.map((response) => response.headers.get('x-trace-id')!);
  const isLast = (span: ReceivedSpan) => span.name === 'socket.io emit plan:ready';
  await receiver.waitForSpans(
    (spans) => traceIds.every((traceId) => spans.some((span) => span.traceId === traceId && isLast(span))),
    { timeoutMs: 30_000 },
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  const all = receiver.spans();
  const shapes = new Set<string>();
  for (const traceId of traceIds) {
    const trace = all.filter((span) => span.traceId === traceId);
    const tree = formatTree(trace);
    const root = trace.find((span) => span.name === 'POST /api/sessions/:sessionId/plan');
    expect(root, tree).toBeDefined();
    for (const span of trace)
      if (span !== root) expect(ancestorsOf(trace, span), `${span.name}\n${tree}`).toContain(root);
    expect(
      trace.filter((span) => span.name === 'process renovation-plans'),
      tree,
    ).toHaveLength(1);
    expect(
      trace.filter((span) => span.attributes['gen_ai.operation.name'] === 'chat'),
      tree,
    ).toHaveLength(2);
    shapes.add(JSON.stringify(sqlNames(trace)));
  }
  // every job did the same database work, so every trace holds the same SQL spans
  expect([...shapes], [...shapes].join('\n')).toHaveLength(1);
  // and no job's spans landed outside its own trace
  const jobSpans = all.filter((span) => span.name === 'process renovation-plans' || span.name === 'INSERT plans');
  expect(jobSpans.filter((span) => !traceIds.includes(span.traceId))).toEqual([]);
  return { traceIds };
}

/** A new user and session, with the receiver emptied once the session's own spans are in. */
async function freshSession(stack: Stack, title?: string) {
  const user = await newUserSession(stack.server, title === undefined ? {} : { title });
  await stack.receiver.waitForSpan(
    (span) => span.name === 'INSERT renovation_sessions' && span.attributes['db.query.text'] !== undefined,
  );
  return user;
}

describe(`trace context under load (pool of ${POOL}, ${CONCURRENCY} concurrent)`, () => {
  describe('everything sampled', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ DATABASE_POOL_MAX: String(POOL) });
    });
    afterAll(async () => {
      await stack?.stop();
    });

    it('when requests outnumber the pool 8 to 1, then each trace holds exactly its own two SQL spans, children of its server span', async () => {
      const { token, sessionId } = await freshSession(stack);
      stack.receiver.clear();
      const responses = await inParallel(240, CONCURRENCY, () =>
        api(stack.server, 'GET', `/api/sessions/${sessionId}`, { token }),
      );
      expect(responses.every((response) => response.status === 200)).toBe(true);
      const traceIds = responses.map((response) => response.headers.get('x-trace-id')!);
      expect(new Set(traceIds).size).toBe(traceIds.length);

      const spans = await settle(stack, (all) => all.length >= traceIds.length * 3);
      expect(distribution(traceIds, spans)).toEqual({ 2: traceIds.length });
      for (const traceId of traceIds) {
        const trace = spans.filter((span) => span.traceId === traceId);
        const root = trace.find((span) => span.kind === 'SERVER');
        expect(root, formatTree(trace)).toBeDefined();
        expect(sqlNames(trace)).toEqual(['SELECT messages', 'SELECT renovation_sessions']);
        for (const query of trace.filter(isSql)) expect(query.parentSpanId, formatTree(trace)).toBe(root!.spanId);
      }
      expect(spans.filter(isSql)).toHaveLength(traceIds.length * 2);
    });

    it('when several sockets chat at once, then each message’s trace holds its own model calls, their HTTP requests and its tool’s SQL', async () => {
      const users = await Promise.all(
        Array.from({ length: 6 }, (_, i) => newUserSession(stack.server, { title: `Flat ${i}` })),
      );
      const chats = await Promise.all(users.map(({ token }) => connectChat(stack.server.url, { token })));
      const requestsBefore = stack.gemini.requests.length;

      const rounds = 2;
      for (let round = 0; round < rounds; round++) {
        const replies = await Promise.all(
          chats.map(async (chat, i) => {
            const ack = await chat.send({
              sessionId: users[i]!.sessionId,
              content: `What does a ${10 + i} m2 kitchen cost?`,
            });
            expect(ack.ok).toBe(true);
            return chat.nextReply();
          }),
        );
        for (const reply of replies) expect(reply.error).toBeUndefined();
      }
      for (const chat of chats) chat.close();

      const isEvent = (span: ReceivedSpan) => span.name === 'socket.io chat:user_message';
      const all = await settle(stack, (spans) => spans.filter(isEvent).length >= chats.length * rounds);
      const events = all.filter(isEvent);
      expect(events).toHaveLength(chats.length * rounds);
      const traceIds = events.map((event) => event.traceId);
      expect(new Set(traceIds).size).toBe(traceIds.length);

      for (const event of events) {
        const trace = all.filter((span) => span.traceId === event.traceId);
        const tree = formatTree(trace);
        // every span of the trace descends from its one event span
        for (const span of trace)
          if (span !== event) expect(ancestorsOf(trace, span), `${span.name}\n${tree}`).toContain(event);
        // the user's message is stored, history read, the tool reads prices and the session, the reply is stored
        expect(sqlNames(trace), tree).toEqual([
          'INSERT messages',
          'INSERT messages',
          'SELECT messages',
          'SELECT renovation_prices',
          'SELECT renovation_sessions',
          'SELECT renovation_sessions',
        ]);
        const tool = trace.find((span) => span.name === 'execute_tool estimate_renovation_cost');
        expect(tool, tree).toBeDefined();
        const toolSql = trace.filter((span) => isSql(span) && ancestorsOf(trace, span).includes(tool!));
        expect(toolSql.map((span) => span.name).sort(), tree).toEqual([
          'SELECT renovation_prices',
          'SELECT renovation_sessions',
        ]);
        const modelCalls = trace.filter((span) => span.attributes['gen_ai.operation.name'] === 'chat');
        expect(modelCalls, tree).toHaveLength(2);
        for (const call of modelCalls) {
          const http = trace.filter(
            (span) =>
              span.kind === 'CLIENT' &&
              span.parentSpanId === call.spanId &&
              span.attributes['http.request.method'] !== undefined,
          );
          expect(http, tree).toHaveLength(1);
        }
      }
      // and the model's side saw the same: two requests per message, each carrying that message's trace
      const seen = stack.gemini.requests
        .slice(requestsBefore)
        .map((request) => String(request.headers.traceparent).slice(3, 35));
      expect(seen.sort()).toEqual([...traceIds, ...traceIds].sort());
    });
  });

  describe('10% sampled', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({
        DATABASE_POOL_MAX: String(POOL),
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
      });
    });
    afterAll(async () => {
      await stack?.stop();
    });

    it('when requests outnumber the pool, then no sampled trace loses a span and no unsampled request’s span shows up anywhere', async () => {
      const { token, sessionId } = await newUserSession(stack.server);
      const responses = await inParallel(400, CONCURRENCY, () =>
        api(stack.server, 'GET', `/api/sessions/${sessionId}`, { token }),
      );
      expect(responses.every((response) => response.status === 200)).toBe(true);
      const traceIds = responses.map((response) => response.headers.get('x-trace-id')!);
      // a forced marker: once it is exported, everything before it is too
      const marker = await api(stack.server, 'GET', `/api/sessions/${sessionId}`, {
        token,
        headers: { 'x-force-sample': 'true' },
      });
      const markerId = marker.headers.get('x-trace-id')!;
      await stack.receiver.waitForSpans((spans) => spans.filter((span) => span.traceId === markerId).length === 3, {
        timeoutMs: 30_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 500));

      const spans = stack.receiver.spans().filter((span) => span.traceId !== markerId);
      const sampled = new Set(
        spans.filter((span) => span.kind === 'SERVER' && traceIds.includes(span.traceId)).map((span) => span.traceId),
      );
      // about 10% of 400; the bounds only say "the ratio applied", they are not what is tested
      expect(sampled.size).toBeGreaterThan(5);
      expect(sampled.size).toBeLessThan(120);
      for (const span of spans.filter((candidate) => traceIds.includes(candidate.traceId))) {
        expect(sampled.has(span.traceId), `${span.name} in an unsampled trace`).toBe(true);
      }
      expect(distribution([...sampled], spans)).toEqual({ 2: sampled.size });
      for (const traceId of sampled) {
        const trace = spans.filter((span) => span.traceId === traceId);
        const root = trace.find((span) => span.kind === 'SERVER')!;
        for (const query of trace.filter(isSql)) expect(query.parentSpanId, formatTree(trace)).toBe(root.spanId);
      }
      // nothing else anywhere (the session's creation, sampled one time in ten, is not part of the load)
      expect(spans.filter((span) => isSql(span) && span.name !== 'INSERT renovation_sessions')).toHaveLength(
        sampled.size * 2,
      );
    });
  });

  describe('plan jobs in the API process (no Redis)', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ DATABASE_POOL_MAX: String(POOL), REDIS_URL: undefined });
    });
    afterAll(async () => {
      await stack?.stop();
    });

    it('when several users ask for a plan at once, then each job runs in its request’s trace: its SQL, model calls and delivery', async () => {
      await concurrentPlans(stack.server, stack.server, stack.receiver);
    });
  });

  const redisUrl = inject('redisUrl');
  describe.skipIf(!redisUrl)('plan jobs on Redis: BullMQ, the worker, the Socket.io Redis adapter', () => {
    const prefix = `rabctx${process.pid}${Date.now().toString(36)}`;
    let receiver: OtlpReceiver;
    let gemini: GeminiStandIn;
    let api1: ServerProcess;
    let api2: ServerProcess;
    let worker: ServerProcess;

    beforeAll(async () => {
      receiver = await startOtlpReceiver();
      gemini = await startGeminiStandIn({ chunkDelayMs: 0 });
      const env = {
        ...testEnv(inject('databaseUrl'), receiver.url),
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: prefix,
        GEMINI_BASE_URL: gemini.baseUrl,
        GEMINI_API_KEY: 'test-key',
        GEMINI_MAX_RETRIES: '0',
        DATABASE_POOL_MAX: String(POOL),
        PLAN_WORKER_CONCURRENCY: '6',
      };
      [api1, api2, worker] = await Promise.all([
        startServer({ env: { ...env, OTEL_SERVICE_NAME: 'api-1' } }),
        startServer({ env: { ...env, OTEL_SERVICE_NAME: 'api-2' } }),
        startWorker(env),
      ]);
    });

    afterAll(async () => {
      await Promise.all([api1?.stop(), api2?.stop(), worker?.stop()]);
      await gemini?.close();
      await receiver?.close();
      const redis = new IORedis(redisUrl);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });

    it('when several users ask for a plan at once on one instance with their sockets on another, then each trace holds its own job, Redis commands and delivery', async () => {
      const { traceIds } = await concurrentPlans(api1, api2, receiver);
      await receiver.waitForSpans(
        (spans) =>
          traceIds.every((traceId) =>
            spans.some((span) => span.traceId === traceId && span.name === 'socket.io deliver plan:ready'),
          ),
        { timeoutMs: 30_000 },
      );
      const spans = receiver.spans();
      for (const traceId of traceIds) {
        const trace = spans.filter((span) => span.traceId === traceId);
        const tree = formatTree(trace);
        const delivered = trace.filter((span) => span.name === 'socket.io deliver plan:ready');
        expect(
          delivered.map((span) => span.resource['service.name']),
          tree,
        ).toEqual(['api-2']);
        expect(trace.find((span) => span.name === 'process renovation-plans')?.resource['service.name'], tree).toBe(
          'renovation-agent-worker',
        );
        const redisCommands = trace.filter(
          (span) => span.attributes['db.system.name'] === 'redis' || span.attributes['db.system'] === 'redis',
        );
        expect(redisCommands.length, tree).toBeGreaterThan(0);
      }
    });
  });
});
