import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { GeminiStandIn } from '../src/dev/gemini-stand-in/server';
import { connectChat } from '../testing/chat-client';
import type { OtlpReceiver } from '../testing/otlp-receiver';
import { api, type ServerProcess } from '../testing/server-process';
import { newUserSession, startStack, type Stack } from '../testing/stack';

const BUDGET = 300;

function secondsToUtcMidnight(): number {
  const now = Date.now();
  return Math.ceil((Math.floor(now / 86_400_000) * 86_400_000 + 86_400_000 - now) / 1000);
}

describe('a per-user daily AI budget (AI_DAILY_TOKEN_BUDGET)', () => {
  let stack: Stack;
  let server: ServerProcess;
  let gemini: GeminiStandIn;
  let receiver: OtlpReceiver;
  let db: pg.Client;

  beforeAll(async () => {
    db = new pg.Client({ connectionString: inject('databaseUrl') });
    await db.connect();
    stack = await startStack({ AI_DAILY_TOKEN_BUDGET: String(BUDGET) });
    ({ server, gemini, receiver } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
    await db?.end();
  });

  it('when a user has spent the day’s tokens, then chat gets AI_BUDGET_EXCEEDED and a plan 429 with Retry-After, no model call is made, and the spans and log say so', async () => {
    const { userId, token, sessionId } = await newUserSession(server);
    const chat = await connectChat(server.url, { token });
    gemini.enqueue({ text: 'Start with the wiring.', usage: { promptTokens: 250, candidatesTokens: 100 } });
    await chat.send({ sessionId, content: 'Where do I start?' });
    expect((await chat.nextReply()).message?.usage).toEqual({ inputTokens: 250, outputTokens: 100 });

    // 350 tokens spent of 300: the next reply is refused before the model is asked
    const modelCalls = gemini.requests.length;
    const ack = await chat.send({ sessionId, content: 'And then?' });
    expect(ack.ok).toBe(true);
    const refused = await chat.nextReply();
    expect(refused.error).toMatchObject({
      sessionId,
      code: 'AI_BUDGET_EXCEEDED',
      message: expect.stringContaining(`${BUDGET} tokens a day`),
    });
    expect(gemini.requests.length).toBe(modelCalls);

    const plan = await api(server, 'POST', `/api/sessions/${sessionId}/plan`, { token });
    chat.close();
    expect(plan.status).toBe(429);
    expect(plan.body.error).toMatchObject({
      code: 'AI_BUDGET_EXCEEDED',
      details: { spentTokens: 350, budgetTokens: BUDGET },
    });
    const retryAfter = Number(plan.headers.get('retry-after'));
    expect(Math.abs(retryAfter - secondsToUtcMidnight())).toBeLessThanOrEqual(5);
    expect(plan.body.error.details.retryAfterSeconds).toBe(retryAfter);
    expect(gemini.requests.length).toBe(modelCalls);
    expect(
      Number((await db.query('SELECT count(*) AS n FROM plan_jobs WHERE session_id = $1', [sessionId])).rows[0].n),
    ).toBe(0);

    // spans: the refused chat event and the refused request carry error.type, as a client error (not ERROR)
    const event = await receiver.waitForSpan(
      (span) =>
        span.name === 'socket.io chat:user_message' &&
        span.attributes['session.id'] === sessionId &&
        span.attributes['error.type'] === 'AI_BUDGET_EXCEEDED',
    );
    expect(event.status.code).not.toBe('ERROR');
    const root = await receiver.waitForSpan(
      (span) => span.traceId === plan.headers.get('x-trace-id') && span.kind === 'SERVER',
    );
    expect(root.attributes).toMatchObject({
      'error.type': 'AI_BUDGET_EXCEEDED',
      'http.response.status_code': 429,
      'enduser.id': userId,
    });

    // logs: one line each, saying what was refused and why
    const refusals = server.logs().filter((line) => line.code === 'AI_BUDGET_EXCEEDED' && line.user_id === userId);
    expect(refusals.map((line) => line.msg).sort()).toEqual([
      'AI budget exceeded: plan refused',
      'AI budget exceeded: reply refused',
    ]);
    for (const line of refusals)
      expect(line).toMatchObject({
        level: 'warn',
        spentTokens: 350,
        budgetTokens: BUDGET,
        trace_id: expect.any(String),
      });
    expect(server.logs().filter((line) => line.msg === 'chat reply failed' && line.sessionId === sessionId)).toEqual(
      [],
    );
  });

  it('when plans used the tokens, then they count toward the budget too; another user is not affected', async () => {
    const { token, sessionId } = await newUserSession(server, { title: 'Plans only' });
    const chat = await connectChat(server.url, { token });
    gemini.enqueue({ text: 'A plan.', usage: { promptTokens: 280, candidatesTokens: 40 } });
    const ready = new Promise((resolve) => chat.socket.once('plan:ready', resolve));
    expect((await api(server, 'POST', `/api/sessions/${sessionId}/plan`, { token })).status).toBe(202);
    await ready;
    await chat.send({ sessionId, content: 'Thanks. Now what?' });
    expect((await chat.nextReply()).error?.code).toBe('AI_BUDGET_EXCEEDED');
    chat.close();

    const other = await newUserSession(server, { title: 'Fresh user' });
    const otherChat = await connectChat(server.url, { token: other.token });
    gemini.enqueue({ text: 'Sure.' });
    await otherChat.send({ sessionId: other.sessionId, content: 'Hello' });
    expect((await otherChat.nextReply()).message?.content).toBe('Sure.');
    otherChat.close();
  });
});
