import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectChat } from '../testing/chat-client';
import { newUserSession, startStack, type Stack } from '../testing/stack';

/**
 * The socket's answers to errors (one acknowledgement, `{ok:false,error}` before it,
 * `chat:error` without one) are the dispatcher's, not the tracing's: the same stories
 * hold with the SDK switched off.
 */
describe.each([
  ['tracing on', {}],
  ['OTEL_SDK_DISABLED=true', { OTEL_SDK_DISABLED: 'true' }],
])('socket error replies with %s', (_name, env: Record<string, string>) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack(env);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('when payloads are invalid or the session is someone else’s, then the ack says why and the socket stays usable', async () => {
    const { token, sessionId } = await newUserSession(stack.server);
    const other = await newUserSession(stack.server, { title: 'Not yours' });
    const chat = await connectChat(stack.server.url, { token });
    const cases: Array<[unknown, string]> = [
      ['just a string', 'VALIDATION_FAILED'],
      [{ sessionId, content: '' }, 'VALIDATION_FAILED'],
      [{ sessionId: other.sessionId, content: 'hi' }, 'NOT_FOUND'],
    ];
    for (const [payload, code] of cases) {
      expect(await chat.send(payload)).toEqual({ ok: false, error: { code, message: expect.any(String) } });
      expect(chat.socket.connected).toBe(true);
    }
    stack.gemini.enqueue({ text: 'Still here.' });
    expect((await chat.send({ sessionId, content: 'hello?' })).ok).toBe(true);
    expect((await chat.nextReply()).message?.content).toBe('Still here.');
    chat.close();
  });

  it('when a message without an ack fails, then the client gets exactly one chat:error', async () => {
    const { token, sessionId } = await newUserSession(stack.server);
    stack.gemini.enqueue({ status: 503, message: 'overloaded' });
    const chat = await connectChat(stack.server.url, { token });
    const errors: unknown[] = [];
    chat.socket.on('chat:error', (error) => errors.push(error));
    chat.socket.emit('chat:user_message', { sessionId, content: 'no ack this time' });
    await chat.nextReply();
    // a second chat:error would follow the first at once; the next message's reply comes after it
    stack.gemini.enqueue({ text: 'Back again.' });
    expect((await chat.send({ sessionId, content: 'and now?' })).ok).toBe(true);
    expect((await chat.nextReply()).message?.content).toBe('Back again.');
    chat.close();
    expect(errors).toEqual([{ sessionId, code: 'AI_UNAVAILABLE', message: expect.any(String) }]);
  });

  it('when an invalid message comes without an ack, then the client gets one chat:error without a session', async () => {
    const { token } = await newUserSession(stack.server);
    const chat = await connectChat(stack.server.url, { token });
    chat.socket.emit('chat:user_message', { content: 'which session?' });
    const reply = await chat.nextReply();
    chat.close();
    expect(reply.error).toEqual({ sessionId: null, code: 'VALIDATION_FAILED', message: expect.any(String) });
  });

  it('when a message is acknowledged and its reply then fails, then the ack is ok and chat:error follows', async () => {
    const { token, sessionId } = await newUserSession(stack.server);
    stack.gemini.enqueue({ status: 503, message: 'overloaded' });
    const chat = await connectChat(stack.server.url, { token });
    expect(await chat.send({ sessionId, content: 'estimate please' })).toEqual({
      ok: true,
      messageId: expect.any(String),
    });
    expect((await chat.nextReply()).error).toEqual({ sessionId, code: 'AI_UNAVAILABLE', message: expect.any(String) });
    chat.close();
  });
});
