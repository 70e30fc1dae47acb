import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeminiStandIn } from '../src/dev/gemini-stand-in/server';
import { connectChat } from '../testing/chat-client';
import { ancestorsOf, formatTree, type OtlpReceiver, type ReceivedSpan } from '../testing/otlp-receiver';
import { api, tokenFor, uniqueUser, type ServerProcess } from '../testing/server-process';
import { genAISchemaErrors } from '../testing/genai-schemas';
import { newUserSession, startStack, type Stack } from '../testing/stack';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const AGENT = 'invoke_agent renovation-assistant';
const CHAT = 'chat gemini-2.5-flash';

describe('chat over Socket.io, traced end to end (scripted Gemini stand-in over HTTP)', () => {
  let receiver: OtlpReceiver;
  let gemini: GeminiStandIn;
  let server: ServerProcess;

  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ GEMINI_TEMPERATURE: '0.2', GEMINI_MAX_OUTPUT_TOKENS: '1024' });
    ({ receiver, gemini, server } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const newSession = (title?: string) => newUserSession(server, { ...(title ? { title } : {}) });

  async function traceOf(predicate: (span: ReceivedSpan) => boolean, settleMs = 300): Promise<ReceivedSpan[]> {
    const anchor = await receiver.waitForSpan(predicate);
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    return receiver.trace(anchor.traceId);
  }

  it('when a token is missing or bad, then the handshake is refused with "unauthorized"', async () => {
    await expect(connectChat(server.url)).rejects.toThrow('unauthorized');
    await expect(connectChat(server.url, { token: 'not-a-jwt' })).rejects.toThrow('unauthorized');
    await expect(connectChat(server.url, { token: await tokenFor('eve', { secret: 'x'.repeat(48) }) })).rejects.toThrow(
      'unauthorized',
    );
  });

  it('when a message calls a tool, then one trace holds event → graph → nodes → two model calls and a tool → HTTP and SQL, with the stand-in’s token figures', async () => {
    const { userId, token, sessionId } = await newSession();
    gemini.enqueue(
      {
        functionCalls: [
          { name: 'estimate_renovation_cost', args: { room: 'kitchen', areaSqm: 12, finish: 'standard' } },
        ],
        usage: { promptTokens: 100, candidatesTokens: 10, thoughtsTokens: 5 },
      },
      {
        text: 'A 12 m² kitchen comes to about €24,000, over your €20,000 budget.',
        usage: { promptTokens: 150, candidatesTokens: 40 },
      },
    );
    const requestsBefore = gemini.requests.length;
    const chat = await connectChat(server.url, {
      token,
      headers: { traceparent: `00-${TRACE_ID.replace('4bf9', 'aaaa')}-00f067aa0ba902b7-01` },
    });
    const ack = await chat.send({ sessionId, content: 'What does a 12 m2 kitchen cost?' });
    expect(ack).toEqual({ ok: true, messageId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const reply = await chat.nextReply();
    chat.close();

    expect(reply.error).toBeUndefined();
    expect(reply.message).toMatchObject({
      sessionId,
      content: 'A 12 m² kitchen comes to about €24,000, over your €20,000 budget.',
    });
    expect(reply.chunks.length).toBeGreaterThan(3);
    expect(reply.chunks.map((chunk) => chunk.delta).join('')).toBe(reply.message!.content);
    expect(new Set(reply.chunks.map((chunk) => chunk.messageId))).toEqual(new Set([reply.message!.messageId]));
    // usage: the model's own figures, thinking counted as output, summed over both calls
    expect(reply.message!.usage).toEqual({ inputTokens: 250, outputTokens: 55 });

    const spans = await traceOf(
      (span) => span.name === AGENT && span.attributes['gen_ai.conversation.id'] === sessionId,
    );
    const tree = formatTree(spans);
    const find = (name: string) => spans.filter((span) => span.name === name);
    const [event] = find('socket.io chat:user_message');
    expect(event, tree).toBeDefined();
    expect(event!.kind).toBe('CONSUMER');
    expect(event!.attributes).toMatchObject({
      'messaging.system': 'socket.io',
      'socket.io.event': 'chat:user_message',
      'session.id': sessionId,
      'enduser.id': userId,
    });
    expect(event!.attributes['socket.id']).toEqual(expect.any(String));

    // the agent run: invoke_agent {gen_ai.agent.name}, INTERNAL (the agent runs in this process)
    const [graph] = find(AGENT);
    expect(graph!.parentSpanId, tree).toBe(event!.spanId);
    expect(graph!.kind).toBe('INTERNAL');
    expect(graph!.status.code).toBe('UNSET');
    expect(graph!.attributes).toEqual({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.agent.name': 'renovation-assistant',
      'gen_ai.agent.description': expect.stringContaining('renovation'),
      'gen_ai.conversation.id': sessionId,
      'gen_ai.request.model': 'gemini-2.5-flash',
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.max_tokens': 1024,
      'user.id': userId,
    });
    const nodes = find('langgraph.node agent')
      .concat(find('langgraph.node tools'))
      .sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano));
    expect(
      nodes.map((node) => [node.attributes['renovation.langgraph.node'], node.attributes['renovation.langgraph.step']]),
      tree,
    ).toEqual([
      ['agent', 1],
      ['tools', 2],
      ['agent', 3],
    ]);
    for (const node of nodes) expect(node.parentSpanId, tree).toBe(graph!.spanId);

    // each model call: chat {gen_ai.request.model}, CLIENT, every required and recommended attribute we can know
    const aiCalls = find(CHAT).sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano));
    expect(aiCalls, tree).toHaveLength(2);
    expect(aiCalls.map((call) => call.parentSpanId)).toEqual([nodes[0]!.spanId, nodes[2]!.spanId]);
    const answered = gemini.requests.slice(requestsBefore);
    expect(answered.map((request) => request.modelVersion)).toEqual([
      'gemini-2.5-flash-preview-06-17',
      'gemini-2.5-flash-preview-06-17',
    ]);
    const standIn = new URL(gemini.baseUrl);
    const expected = [
      { finish: 'tool_call', input: 100, output: 15, reasoning: 5 },
      { finish: 'stop', input: 150, output: 40, reasoning: 0 },
    ];
    for (const [index, call] of aiCalls.entries()) {
      expect(call.kind).toBe('CLIENT');
      expect(call.status.code).toBe('UNSET');
      const { input, output, reasoning, finish } = expected[index]!;
      expect(call.attributes, tree).toEqual({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'gcp.gemini',
        'gen_ai.request.model': 'gemini-2.5-flash',
        'server.address': standIn.hostname,
        'server.port': Number(standIn.port),
        'gen_ai.request.stream': true,
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.max_tokens': 1024,
        'gen_ai.conversation.id': sessionId,
        'gen_ai.response.time_to_first_chunk': expect.any(Number),
        // what the provider answered, not what was asked for
        'gen_ai.response.model': 'gemini-2.5-flash-preview-06-17',
        'gen_ai.response.id': answered[index]!.responseId,
        'gen_ai.response.finish_reasons': [finish],
        'gen_ai.usage.input_tokens': input,
        'gen_ai.usage.output_tokens': output,
        'gen_ai.usage.reasoning.output_tokens': reasoning,
        'gen_ai.usage.cost': expect.closeTo((input * 0.3 + output * 2.5) / 1e6, 12),
      });
      expect(call.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    }
    expect(answered[0]!.responseId).not.toBe(answered[1]!.responseId);

    // each model call's HTTP request is its child and carried its traceparent to "Gemini"
    const calls = gemini.requests.slice(requestsBefore);
    expect(calls).toHaveLength(2);
    for (const [index, call] of aiCalls.entries()) {
      const http = spans.find((span) => span.parentSpanId === call.spanId && span.kind === 'CLIENT');
      expect(http, tree).toBeDefined();
      expect(String(http!.attributes['url.full'])).toContain(':streamGenerateContent?alt=sse');
      expect(calls[index]!.headers.traceparent).toBe(`00-${call.traceId}-${http!.spanId}-01`);
      expect(calls[index]!.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    }

    const [tool] = find('execute_tool estimate_renovation_cost');
    expect(tool!.parentSpanId, tree).toBe(nodes[1]!.spanId);
    expect(tool!.kind).toBe('INTERNAL');
    expect(tool!.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.tool.name': 'estimate_renovation_cost',
      'gen_ai.tool.description': expect.stringMatching(/^Estimates the cost of renovating a room/),
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.call.id': expect.any(String),
      'gen_ai.conversation.id': sessionId,
    });
    const toolQueries = spans.filter((span) => span.parentSpanId === tool!.spanId);
    expect(toolQueries.map((span) => span.name).sort(), tree).toEqual([
      'SELECT renovation_prices',
      'SELECT renovation_sessions',
    ]);

    // the event's own SQL (store the user's message, read history, store the reply) sits under the event
    const inserts = spans.filter((span) => span.name === 'INSERT messages');
    expect(inserts, tree).toHaveLength(2);
    for (const insert of inserts)
      expect(ancestorsOf(spans, insert).map((span) => span.spanId)).toContain(event!.spanId);

    const ids = new Set(spans.map((span) => span.spanId));
    const roots = spans.filter((span) => span.parentSpanId === undefined || !ids.has(span.parentSpanId));
    expect(
      roots.map((span) => span.name),
      tree,
    ).toEqual(['socket.io connection']);

    // stored, with usage and cost, and summed per session
    // content capture is off: nothing of the user's text, the prompt or the reply is on any span
    const exported = JSON.stringify(spans, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    expect(exported).not.toContain('What does a 12 m2 kitchen cost?');
    expect(exported).not.toContain('renovation-planning assistant');
    expect(exported).not.toContain('over your €20,000 budget');

    const stored = await api(server, 'GET', `/api/sessions/${sessionId}`, { token });
    expect(stored.body.messages.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant']);
    expect(stored.body.messages[1]).toMatchObject({
      id: reply.message!.messageId,
      inputTokens: 250,
      outputTokens: 55,
      model: 'gemini-2.5-flash',
    });
    const usage = await api(server, 'GET', `/api/sessions/${sessionId}/usage`, { token });
    expect(usage.body).toMatchObject({
      sessionId,
      assistantMessages: 1,
      inputTokens: 250,
      outputTokens: 55,
      totalTokens: 305,
      currency: 'USD',
    });
    expect(usage.body.estimatedCostUsd).toBeCloseTo((250 * 0.3 + 55 * 2.5) / 1e6, 6);
  });

  it('when the handshake carries a traceparent, then the event span is in that trace, below the connection span', async () => {
    const { token, sessionId } = await newSession();
    const chat = await connectChat(server.url, {
      token,
      headers: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
    });
    gemini.enqueue({ text: 'Hello there.' });
    await chat.send({ sessionId, content: 'hi' });
    await chat.nextReply();
    chat.close();
    const spans = await traceOf((span) => span.traceId === TRACE_ID && span.name === 'socket.io chat:user_message');
    const connection = spans.find((span) => span.name === 'socket.io connection');
    const event = spans.find((span) => span.name === 'socket.io chat:user_message');
    expect(connection?.parentSpanId).toBe('00f067aa0ba902b7');
    expect(event?.parentSpanId).toBe(connection?.spanId);
  });

  it('when a browser sends the traceparent in auth, or a client only has an x-trace-id, then events join that trace', async () => {
    const { token, sessionId } = await newSession();
    const viaAuth = 'b'.repeat(32);
    const chat = await connectChat(server.url, { token, auth: { traceparent: `00-${viaAuth}-${'c'.repeat(16)}-01` } });
    gemini.enqueue({ text: 'One.' });
    await chat.send({ sessionId, content: 'first' });
    await chat.nextReply();
    chat.close();
    await receiver.waitForSpan((span) => span.traceId === viaAuth && span.name === 'socket.io chat:user_message');

    const bare = `${'d'.repeat(31)}e`;
    const second = await connectChat(server.url, { token, headers: { 'x-trace-id': bare } });
    gemini.enqueue({ text: 'Two.' });
    await second.send({ sessionId, content: 'second' });
    await second.nextReply();
    second.close();
    const spans = await traceOf((span) => span.traceId === bare && span.name === 'socket.io chat:user_message');
    const connection = spans.find((span) => span.name === 'socket.io connection');
    // a clean root in the client's trace, not a made-up parent
    expect(connection?.parentSpanId).toBeUndefined();
    expect(spans.find((span) => span.name === 'socket.io chat:user_message')?.parentSpanId).toBe(connection?.spanId);
  });

  it('when the handshake carries no trace context, then each event starts its own trace linked to the connection span', async () => {
    const { token, sessionId } = await newSession();
    const chat = await connectChat(server.url, { token });
    gemini.enqueue({ text: 'A.' }, { text: 'B.' });
    await chat.send({ sessionId, content: 'one' });
    await chat.nextReply();
    await chat.send({ sessionId, content: 'two' });
    await chat.nextReply();
    chat.close();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const events = receiver
      .spans()
      .filter((span) => span.name === 'socket.io chat:user_message' && span.attributes['session.id'] === sessionId);
    expect(events).toHaveLength(2);
    expect(events[0]!.traceId).not.toBe(events[1]!.traceId);
    const connection = receiver
      .spans()
      .find(
        (span) =>
          span.name === 'socket.io connection' && span.attributes['socket.id'] === events[0]!.attributes['socket.id'],
      );
    for (const event of events) {
      expect(event.parentSpanId).toBeUndefined();
      expect(event.links).toEqual([
        expect.objectContaining({ traceId: connection!.traceId, spanId: connection!.spanId }),
      ]);
    }
  });

  it('when a tool fails (bad arguments from the model), then the model gets a tool error and answers, and the tool span is ERROR', async () => {
    const { token, sessionId } = await newSession();
    gemini.enqueue(
      { functionCalls: [{ name: 'estimate_renovation_cost', args: { room: 'kitchen', areaSqm: -3 } }] },
      { text: 'Sorry, I need a positive area.' },
    );
    const before = gemini.requests.length;
    const chat = await connectChat(server.url, { token });
    expect((await chat.send({ sessionId, content: 'estimate a -3 m2 kitchen' })).ok).toBe(true);
    const reply = await chat.nextReply();
    chat.close();
    expect(reply.message?.content).toBe('Sorry, I need a positive area.');
    // the second model call was told what went wrong
    const second = gemini.requests[before + 1]!.body!.contents!.at(-1)!.parts![0]!.functionResponse;
    expect(second).toMatchObject({ name: 'estimate_renovation_cost' });
    expect(JSON.stringify(second)).toContain('areaSqm must be more than 0');
    const spans = await traceOf(
      (span) =>
        span.name === 'execute_tool estimate_renovation_cost' &&
        span.attributes['gen_ai.conversation.id'] === sessionId,
    );
    const tool = spans.find((span) => span.name === 'execute_tool estimate_renovation_cost')!;
    expect(tool.status.code).toBe('ERROR');
    expect(spans.find((span) => span.name === 'socket.io chat:user_message')?.status.code).toBe('UNSET');
  });

  it('when a client uses the long-polling transport (the Socket.io default before upgrading), then chat works the same', async () => {
    const { token, sessionId } = await newSession();
    gemini.enqueue({ text: 'Polling works.' });
    const chat = await connectChat(server.url, { token, transports: ['polling'] });
    expect((await chat.send({ sessionId, content: 'over polling' })).ok).toBe(true);
    expect((await chat.nextReply()).message?.content).toBe('Polling works.');
    chat.close();
    const anonymous = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
    expect(anonymous.status).toBe(200);
    await anonymous.text();
    expect(server.logs().filter((line) => line.level === 'error')).toEqual([]);
  });

  it('when a message without an ack fails, then the client gets exactly one chat:error', async () => {
    const { token, sessionId } = await newSession();
    gemini.enqueue({ status: 503, message: 'overloaded' });
    const chat = await connectChat(server.url, { token });
    const errors: unknown[] = [];
    chat.socket.on('chat:error', (error) => errors.push(error));
    chat.socket.emit('chat:user_message', { sessionId, content: 'no ack this time' });
    await chat.nextReply();
    await new Promise((resolve) => setTimeout(resolve, 300));
    chat.close();
    expect(errors).toEqual([{ sessionId, code: 'AI_UNAVAILABLE', message: expect.any(String) }]);
  });

  it('when Gemini answers 429, then the user gets chat:error, the model span is ERROR with an exception event, and the next message works', async () => {
    const { token, sessionId } = await newSession();
    const chat = await connectChat(server.url, { token });
    gemini.enqueue({
      status: 429,
      message: 'Resource has been exhausted (e.g. check quota).',
      grpcStatus: 'RESOURCE_EXHAUSTED',
    });
    const ack = await chat.send({ sessionId, content: 'estimate please' });
    expect(ack.ok).toBe(true);
    const failed = await chat.nextReply();
    expect(failed.error).toEqual({ sessionId, code: 'AI_RATE_LIMITED', message: expect.any(String) });

    const spans = await traceOf(
      (span) =>
        span.name === CHAT && span.attributes['gen_ai.conversation.id'] === sessionId && span.status.code === 'ERROR',
    );
    const call = spans.find((span) => span.name === CHAT)!;
    expect(call.attributes['error.type']).toBe('429');
    expect(call.events.map((event) => event.name)).toContain('exception');
    // no answer, so no response model or id; Gemini asked for no wait, so nothing was re-sent
    expect(
      Object.keys(call.attributes).filter(
        (key) => key.startsWith('gen_ai.response.') || key.startsWith('renovation.retry'),
      ),
    ).toEqual([]);
    const event = spans.find((span) => span.name === 'socket.io chat:user_message')!;
    expect(event.status.code).toBe('ERROR');
    const agent = spans.find((span) => span.name === AGENT)!;
    expect(agent.status.code).toBe('ERROR');
    expect(agent.attributes).toMatchObject({ 'error.type': expect.any(String), 'gen_ai.provider.name': 'gcp.gemini' });

    expect((await api(server, 'GET', '/health')).status).toBe(200);
    gemini.enqueue({ text: 'Back to normal.' });
    expect((await chat.send({ sessionId, content: 'again' })).ok).toBe(true);
    expect((await chat.nextReply()).message?.content).toBe('Back to normal.');
    chat.close();
    // the failed turn stored only the user's message
    const stored = await api(server, 'GET', `/api/sessions/${sessionId}`, { token });
    expect(stored.body.messages.map((message: { role: string }) => message.role)).toEqual([
      'user',
      'user',
      'assistant',
    ]);
  });

  it('when Gemini answers 429 asking for a short wait, then the agent waits, sends again and answers, and the model span shows the retry', async () => {
    const { token, sessionId } = await newSession();
    const before = gemini.requests.length;
    gemini.enqueue(
      {
        status: 429,
        message: 'Resource has been exhausted (e.g. check quota).',
        grpcStatus: 'RESOURCE_EXHAUSTED',
        retryAfterSeconds: 1,
      },
      { text: 'After a pause.' },
    );
    const chat = await connectChat(server.url, { token });
    expect((await chat.send({ sessionId, content: 'estimate please' })).ok).toBe(true);
    const reply = await chat.nextReply();
    chat.close();
    expect(reply.message?.content).toBe('After a pause.');
    const [refused, accepted] = gemini.requests.slice(before);
    expect(refused!.responseId).toBeUndefined();

    const spans = await traceOf(
      (span) => span.name === AGENT && span.attributes['gen_ai.conversation.id'] === sessionId,
    );
    const tree = formatTree(spans);
    const calls = spans.filter((span) => span.name === CHAT);
    expect(calls, tree).toHaveLength(1);
    const call = calls[0]!;
    expect(call.status.code).toBe('UNSET');
    expect(call.attributes).toMatchObject({
      'renovation.retry.count': 1,
      'renovation.retry.after': 1,
      'gen_ai.response.id': accepted!.responseId,
    });
    expect(call.attributes['error.type']).toBeUndefined();
    expect(call.events.filter((event) => event.name === 'renovation.retry').map((event) => event.attributes)).toEqual([
      { 'error.type': '429', 'renovation.retry.count': 1, 'renovation.retry.after': 1 },
    ]);
    // both HTTP requests are children of the one model span, and the second waited
    const http = spans
      .filter((span) => span.parentSpanId === call.spanId && span.kind === 'CLIENT')
      .sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano));
    expect(
      http.map((span) => span.attributes['http.response.status_code']),
      tree,
    ).toEqual([429, 200]);
    expect(Number(http[1]!.startTimeUnixNano - http[0]!.endTimeUnixNano) / 1e9).toBeGreaterThanOrEqual(0.9);
  });

  it('when Gemini answers 429 asking for a long wait, then the user gets AI_RATE_LIMITED at once and the span says how long Gemini asked for', async () => {
    const { token, sessionId } = await newSession();
    const before = gemini.requests.length;
    gemini.enqueue({
      status: 429,
      message: 'Quota exceeded.',
      grpcStatus: 'RESOURCE_EXHAUSTED',
      retryAfterSeconds: 60,
    });
    const chat = await connectChat(server.url, { token });
    expect((await chat.send({ sessionId, content: 'estimate please' })).ok).toBe(true);
    expect((await chat.nextReply()).error).toEqual({ sessionId, code: 'AI_RATE_LIMITED', message: expect.any(String) });
    chat.close();
    expect(gemini.requests.length - before).toBe(1);
    const spans = await traceOf(
      (span) =>
        span.name === CHAT && span.attributes['gen_ai.conversation.id'] === sessionId && span.status.code === 'ERROR',
    );
    const call = spans.find((span) => span.name === CHAT)!;
    expect(call.attributes).toMatchObject({ 'error.type': '429', 'renovation.retry.after': 60 });
    expect(call.attributes['renovation.retry.count']).toBeUndefined();
  });

  it('when the client disconnects mid-reply, then the model call ends cancelled (not failed) with the tokens received so far', async () => {
    const { token, sessionId } = await newSession();
    const chat = await connectChat(server.url, { token });
    gemini.enqueue({ text: 'word '.repeat(200), delayMs: 30, usage: { promptTokens: 80, candidatesTokens: 200 } });
    await chat.send({ sessionId, content: 'long answer please' });
    await new Promise<void>((resolve) => chat.socket.once('chat:assistant_chunk', () => resolve()));
    chat.close();
    const spans = await traceOf(
      (span) => span.name === AGENT && span.attributes['gen_ai.conversation.id'] === sessionId,
    );
    const tree = formatTree(spans);
    const call = spans.find((span) => span.name === CHAT)!;
    expect(call, tree).toBeDefined();
    expect(call.status.code).toBe('UNSET');
    expect(call.attributes['renovation.cancelled']).toBe(true);
    expect(call.attributes['error.type']).toBeUndefined();
    expect(call.events.map((event) => event.name)).not.toContain('exception');
    // an unfinished answer has no response model, id or finish reason; its tokens still count
    expect(
      Object.keys(call.attributes).filter(
        (key) => key.startsWith('gen_ai.response.') && key !== 'gen_ai.response.time_to_first_chunk',
      ),
    ).toEqual([]);
    expect(call.attributes['gen_ai.usage.input_tokens']).toBe(80);
    expect(call.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(call.attributes['gen_ai.usage.output_tokens']).toBeLessThan(200);
    const agent = spans.find((span) => span.name === AGENT)!;
    expect(agent.status.code, tree).toBe('UNSET');
    expect(agent.attributes['renovation.cancelled']).toBe(true);
    for (const node of spans.filter((span) => span.name.startsWith('langgraph.node')))
      expect(node.status.code, tree).toBe('UNSET');
  });

  it('when the user’s text is sent, then it appears in no span and no log line (content capture is off)', async () => {
    const { token, sessionId } = await newSession();
    const secret = `my neighbour Ms ${uniqueUser('private')} lives next door`;
    const chat = await connectChat(server.url, { token });
    gemini.enqueue({ text: 'Noted.' });
    await chat.send({ sessionId, content: secret });
    await chat.nextReply();
    chat.close();
    await traceOf((span) => span.name === AGENT && span.attributes['gen_ai.conversation.id'] === sessionId);
    const exported = JSON.stringify(receiver.spans(), (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    expect(exported).not.toContain(secret);
    for (const name of [
      'gen_ai.system_instructions',
      'gen_ai.input.messages',
      'gen_ai.output.messages',
      'gen_ai.tool.call.arguments',
      'gen_ai.tool.call.result',
    ]) {
      expect(exported).not.toContain(name);
    }
    expect(server.output()).not.toContain(secret);
    expect(server.output()).not.toContain('test-key-not-secret');
    expect(exported).not.toContain('test-key-not-secret');
  });

  it('when payloads are invalid, the session unknown or someone else’s, then the ack says why, nothing is stored, and the socket stays usable', async () => {
    const { token, sessionId } = await newSession();
    const other = await newSession('Not yours');
    const chat = await connectChat(server.url, { token });
    const cases: Array<[unknown, string]> = [
      ['just a string', 'VALIDATION_FAILED'],
      [{ sessionId }, 'VALIDATION_FAILED'],
      [{ sessionId, content: '' }, 'VALIDATION_FAILED'],
      [{ sessionId, content: 'x'.repeat(4001) }, 'VALIDATION_FAILED'],
      [{ sessionId: 'not-a-uuid', content: 'hi' }, 'VALIDATION_FAILED'],
      [{ sessionId, content: 'hi', extra: true }, 'VALIDATION_FAILED'],
      [{ sessionId, content: 'nul \u0000 inside' }, 'VALIDATION_FAILED'],
      [{ sessionId: '00000000-0000-4000-8000-000000000000', content: 'hi' }, 'NOT_FOUND'],
      [{ sessionId: other.sessionId, content: 'hi' }, 'NOT_FOUND'],
    ];
    for (const [payload, code] of cases) {
      const ack = await chat.send(payload);
      expect(ack, JSON.stringify(payload).slice(0, 80)).toEqual({
        ok: false,
        error: { code, message: expect.any(String) },
      });
      expect(chat.socket.connected).toBe(true);
    }
    for (const { token: owner, sessionId: id } of [{ token, sessionId }, other]) {
      expect((await api(server, 'GET', `/api/sessions/${id}`, { token: owner })).body.messages).toEqual([]);
    }
    gemini.enqueue({ text: 'Still here.' });
    expect((await chat.send({ sessionId, content: 'hello?' })).ok).toBe(true);
    expect((await chat.nextReply()).message?.content).toBe('Still here.');
    chat.close();
  });
});

describe('chat with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY', () => {
  let receiver: OtlpReceiver;
  let gemini: GeminiStandIn;
  let server: ServerProcess;

  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'SPAN_ONLY' });
    ({ receiver, gemini, server } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const parse = (value: unknown) =>
    JSON.parse(value as string) as Array<{
      role?: string;
      type?: string;
      parts?: Array<Record<string, unknown>>;
      finish_reason?: string;
    }>;

  it('when content capture is on, then instructions, messages, tool call and tool result are recorded where the conventions put them, valid against their schemas', async () => {
    const token = await tokenFor(uniqueUser());
    const { body: session } = await api(server, 'POST', '/api/sessions', { token, body: { title: 'Loft' } });
    const text = `Please estimate my ${'very '.repeat(2000)}big 20 m2 attic`;
    gemini.enqueue(
      { functionCalls: [{ name: 'estimate_renovation_cost', args: { room: 'attic', areaSqm: 20 } }] },
      { text: 'About €24,000.' },
    );
    const chat = await connectChat(server.url, { token });
    await chat.send({ sessionId: session.id, content: text.slice(0, 4000) });
    expect((await chat.nextReply()).message?.content).toBe('About €24,000.');
    chat.close();

    const ours = (span: ReceivedSpan) => span.name === CHAT && span.attributes['gen_ai.conversation.id'] === session.id;
    await receiver.waitForSpans((spans) => spans.filter(ours).length === 2);
    const calls = receiver
      .spans()
      .filter(ours)
      .sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano));
    for (const call of calls) {
      expect(genAISchemaErrors('system', call.attributes['gen_ai.system_instructions'])).toEqual([]);
      expect(genAISchemaErrors('input', call.attributes['gen_ai.input.messages'])).toEqual([]);
      expect(genAISchemaErrors('output', call.attributes['gen_ai.output.messages'])).toEqual([]);
      expect((call.attributes['gen_ai.input.messages'] as string).length).toBeLessThanOrEqual(8192);
    }
    // the system prompt goes to Gemini as systemInstruction, so it is recorded apart from the messages
    expect(parse(calls[0]!.attributes['gen_ai.system_instructions'])).toEqual([
      { type: 'text', content: expect.stringMatching(/^You are a renovation-planning assistant/) },
    ]);
    const firstInput = parse(calls[0]!.attributes['gen_ai.input.messages']);
    expect(firstInput.map((message) => message.role)).toEqual(['user']);
    expect(firstInput[0]!.parts).toEqual([{ type: 'text', content: text.slice(0, 4000) }]);

    // the model's tool call is its output, with id, name and arguments
    const tool = receiver
      .spans()
      .find((span) => span.name === 'execute_tool estimate_renovation_cost' && span.traceId === calls[0]!.traceId)!;
    const callId = tool.attributes['gen_ai.tool.call.id'];
    expect(parse(calls[0]!.attributes['gen_ai.output.messages'])).toEqual([
      {
        role: 'assistant',
        parts: [
          {
            type: 'tool_call',
            id: callId,
            name: 'estimate_renovation_cost',
            arguments: { room: 'attic', areaSqm: 20 },
          },
        ],
        finish_reason: 'tool_call',
      },
    ]);
    // the tool span holds the arguments and the result as JSON objects
    expect(JSON.parse(tool.attributes['gen_ai.tool.call.arguments'] as string)).toEqual({ room: 'attic', areaSqm: 20 });
    const result = JSON.parse(tool.attributes['gen_ai.tool.call.result'] as string) as Record<string, unknown>;
    expect(result).toMatchObject({ room: 'attic', areaSqm: 20, totalCents: expect.any(Number) });
    // the next call's input carries the call and the result that went back to the model
    const secondInput = parse(calls[1]!.attributes['gen_ai.input.messages']);
    expect(secondInput.map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
    expect(secondInput[1]!.parts).toEqual([
      { type: 'tool_call', id: callId, name: 'estimate_renovation_cost', arguments: { room: 'attic', areaSqm: 20 } },
    ]);
    expect(secondInput[2]!.parts).toEqual([{ type: 'tool_call_response', id: callId, response: result }]);
    expect(parse(calls[1]!.attributes['gen_ai.output.messages'])).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'About €24,000.' }], finish_reason: 'stop' },
    ]);
    // usage before content: if an attribute limit bites, it bites the content
    const keys = Object.keys(calls[1]!.attributes);
    expect(keys.indexOf('gen_ai.usage.input_tokens')).toBeLessThan(keys.indexOf('gen_ai.output.messages'));
  });
});
