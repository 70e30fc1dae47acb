import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { GeminiStandIn } from '../src/dev/gemini-stand-in/server';
import { connectChat } from '../testing/chat-client';
import { api, type ServerProcess } from '../testing/server-process';
import { newUserSession, startStack, type Stack } from '../testing/stack';

describe('money and tokens spent once: Idempotency-Key on payments and plans, one open plan job per session', () => {
  let stack: Stack;
  let server: ServerProcess;
  let gemini: GeminiStandIn;
  let db: pg.Client;

  beforeAll(async () => {
    db = new pg.Client({ connectionString: inject('databaseUrl') });
    await db.connect();
    stack = await startStack();
    ({ server, gemini } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
    await db?.end();
  });

  const count = async (sql: string, params: unknown[]) =>
    Number((await db.query<{ n: string }>(sql, params)).rows[0]!.n);
  const payment = (sessionId: string) => ({ sessionId, amountCents: 125_000, currency: 'EUR' });

  it('when expired keys are in the table, then a keyed request purges them', async () => {
    await db.query(
      `INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, response, expires_at)
       VALUES ('expired-user', 'old-key', 'f', 201, '{}', now() - interval '1 hour')`,
    );
    const { token, sessionId } = await newUserSession(server);
    const response = await api(server, 'POST', '/api/payments', {
      token,
      body: payment(sessionId),
      headers: { 'idempotency-key': crypto.randomUUID() },
    });
    expect(response.status).toBe(201);
    await expect
      .poll(() => count(`SELECT count(*) AS n FROM idempotency_keys WHERE user_id = 'expired-user'`, []))
      .toBe(0);
  });

  it('when a payment is repeated with the same key, then the first payment comes back, marked replayed, and only one is stored', async () => {
    const { token, sessionId } = await newUserSession(server);
    const key = crypto.randomUUID();
    const first = await api(server, 'POST', '/api/payments', {
      token,
      body: payment(sessionId),
      headers: { 'idempotency-key': key },
    });
    const again = await api(server, 'POST', '/api/payments', {
      token,
      // same request, keys in another order
      body: { currency: 'EUR', amountCents: 125_000, sessionId },
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await count('SELECT count(*) AS n FROM payments WHERE session_id = $1', [sessionId])).toBe(1);

    const stored = await db.query(
      'SELECT status_code, response, expires_at - created_at AS ttl FROM idempotency_keys WHERE key = $1',
      [key],
    );
    expect(stored.rows[0]).toMatchObject({ status_code: 201, response: first.body });
    expect(stored.rows[0].ttl.days ?? stored.rows[0].ttl.hours / 24).toBeCloseTo(1, 1);

    // without a key, the same body is a new payment
    await api(server, 'POST', '/api/payments', { token, body: payment(sessionId) });
    expect(await count('SELECT count(*) AS n FROM payments WHERE session_id = $1', [sessionId])).toBe(2);
  });

  it('when five requests with one key arrive at once, then all get the same payment and one row exists', async () => {
    const { token, sessionId } = await newUserSession(server);
    const key = crypto.randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        api(server, 'POST', '/api/payments', { token, body: payment(sessionId), headers: { 'idempotency-key': key } }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(responses.map((response) => response.body.id)).size).toBe(1);
    expect(responses.filter((response) => response.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);
    expect(await count('SELECT count(*) AS n FROM payments WHERE session_id = $1', [sessionId])).toBe(1);
    expect(await count('SELECT count(*) AS n FROM idempotency_keys WHERE key = $1', [key])).toBe(1);
  });

  it('when a key is reused for a different request, then 422 IDEMPOTENCY_KEY_REUSED and nothing is charged', async () => {
    const { token, sessionId } = await newUserSession(server);
    const key = crypto.randomUUID();
    await api(server, 'POST', '/api/payments', {
      token,
      body: payment(sessionId),
      headers: { 'idempotency-key': key },
    });
    const other = await api(server, 'POST', '/api/payments', {
      token,
      body: { ...payment(sessionId), amountCents: 999 },
      headers: { 'idempotency-key': key },
    });
    expect(other.status).toBe(422);
    expect(other.body.error).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
      message: expect.stringContaining('different request'),
    });
    const onPlan = await api(server, 'POST', `/api/sessions/${sessionId}/plan`, {
      token,
      headers: { 'idempotency-key': key },
    });
    expect(onPlan.status).toBe(422);
    expect(await count('SELECT count(*) AS n FROM payments WHERE session_id = $1', [sessionId])).toBe(1);
    expect(await count('SELECT count(*) AS n FROM plan_jobs WHERE session_id = $1', [sessionId])).toBe(0);
  });

  it('when the key is malformed, then 400 and nothing is stored; another user may use the same key', async () => {
    const { token, sessionId } = await newUserSession(server);
    for (const bad of ['', 'has space', 'x'.repeat(256), 'quote"d']) {
      const response = await api(server, 'POST', '/api/payments', {
        token,
        body: payment(sessionId),
        headers: { 'idempotency-key': bad },
      });
      expect(response.status, JSON.stringify(bad)).toBe(400);
      expect(response.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining('Idempotency-Key'),
      });
    }
    expect(await count('SELECT count(*) AS n FROM payments WHERE session_id = $1', [sessionId])).toBe(0);

    const key = crypto.randomUUID();
    const mine = await api(server, 'POST', '/api/payments', {
      token,
      body: payment(sessionId),
      headers: { 'idempotency-key': key },
    });
    const other = await newUserSession(server);
    const theirs = await api(server, 'POST', '/api/payments', {
      token: other.token,
      body: payment(other.sessionId),
      headers: { 'idempotency-key': key },
    });
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it('when a plan is requested twice at once with one key, or again while its job runs, then one job runs and every answer names it', async () => {
    const { token, sessionId } = await newUserSession(server, { title: 'Slow plan' });
    gemini.enqueue({
      text: 'Phase 1: strip out. Phase 2: rebuild.',
      chunks: ['Phase 1: strip out. ', 'Phase 2: rebuild.'],
      delayMs: 1_500,
      usage: { promptTokens: 400, candidatesTokens: 60 },
    });
    const chat = await connectChat(server.url, { token });
    const ready = new Promise<{ jobId: string; planId: string }>((resolve) => chat.socket.once('plan:ready', resolve));
    const key = crypto.randomUUID();
    const [a, b] = await Promise.all([
      api(server, 'POST', `/api/sessions/${sessionId}/plan`, { token, headers: { 'idempotency-key': key } }),
      api(server, 'POST', `/api/sessions/${sessionId}/plan`, { token, headers: { 'idempotency-key': key } }),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.body.jobId).toBe(a.body.jobId);
    // no key, and another key: the job still running is the answer
    const keyless = await api(server, 'POST', `/api/sessions/${sessionId}/plan`, { token });
    const otherKey = await api(server, 'POST', `/api/sessions/${sessionId}/plan`, {
      token,
      headers: { 'idempotency-key': crypto.randomUUID() },
    });
    expect(keyless).toMatchObject({ status: 202, body: { jobId: a.body.jobId } });
    expect(otherKey).toMatchObject({ status: 202, body: { jobId: a.body.jobId } });

    const event = await ready;
    chat.close();
    expect(event.jobId).toBe(a.body.jobId);
    expect(await count('SELECT count(*) AS n FROM plan_jobs WHERE session_id = $1', [sessionId])).toBe(1);
    expect(await count('SELECT count(*) AS n FROM plans WHERE session_id = $1', [sessionId])).toBe(1);

    // the job is done: the same key still answers with it, a request without a key starts a new one
    const replay = await api(server, 'POST', `/api/sessions/${sessionId}/plan`, {
      token,
      headers: { 'idempotency-key': key },
    });
    expect(replay).toMatchObject({ status: 202, body: { jobId: a.body.jobId } });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const next = await api(server, 'POST', `/api/sessions/${sessionId}/plan`, { token });
    expect(next.status).toBe(202);
    expect(next.body.jobId).not.toBe(a.body.jobId);
  });

  it('when two plan requests without a key arrive at once, then the session row lock lets one job start and both answers name it', async () => {
    const { token, sessionId } = await newUserSession(server, { title: 'Racing plans' });
    gemini.enqueue({ text: 'A plan.', chunks: ['A ', 'plan.'], delayMs: 1_000 });
    const chat = await connectChat(server.url, { token });
    const ready = new Promise((resolve) => chat.socket.once('plan:ready', resolve));
    const [a, b] = await Promise.all([
      api(server, 'POST', `/api/sessions/${sessionId}/plan`, { token }),
      api(server, 'POST', `/api/sessions/${sessionId}/plan`, { token }),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.body.jobId).toBe(a.body.jobId);
    await ready;
    chat.close();
    expect(await count('SELECT count(*) AS n FROM plan_jobs WHERE session_id = $1', [sessionId])).toBe(1);
  });

  it('when a session has chat replies and a plan, then its usage counts both, with the breakdown', async () => {
    const { token, sessionId } = await newUserSession(server, { title: 'Usage' });
    gemini.enqueue({ text: 'Tiles first.', usage: { promptTokens: 100, candidatesTokens: 20 } });
    const chat = await connectChat(server.url, { token });
    await chat.send({ sessionId, content: 'Where do I start?' });
    expect((await chat.nextReply()).message).toBeDefined();
    gemini.enqueue({ text: 'The plan.', usage: { promptTokens: 300, candidatesTokens: 50 } });
    const ready = new Promise((resolve) => chat.socket.once('plan:ready', resolve));
    await api(server, 'POST', `/api/sessions/${sessionId}/plan`, { token });
    await ready;
    chat.close();

    const usage = await api(server, 'GET', `/api/sessions/${sessionId}/usage`, { token });
    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({
      sessionId,
      assistantMessages: 1,
      plans: 1,
      inputTokens: 400,
      outputTokens: 70,
      totalTokens: 470,
      currency: 'USD',
      breakdown: {
        chat: { assistantMessages: 1, inputTokens: 100, outputTokens: 20, totalTokens: 120 },
        plans: { plans: 1, inputTokens: 300, outputTokens: 50, totalTokens: 350 },
      },
    });
    const { chat: chatUsage, plans: planUsage } = usage.body.breakdown;
    expect(chatUsage.estimatedCostUsd).toBeGreaterThan(0);
    expect(usage.body.estimatedCostUsd).toBeCloseTo(chatUsage.estimatedCostUsd + planUsage.estimatedCostUsd, 9);
  });
});
