import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeminiStandIn } from '../src/dev/gemini-stand-in/server';
import { connectChat } from '../testing/chat-client';
import { api, type ServerProcess } from '../testing/server-process';
import { newUserSession, startStack, type Stack } from '../testing/stack';

const firstChunk = (socket: { once(event: string, listener: () => void): unknown }) =>
  new Promise<void>((resolve) => socket.once('chat:assistant_chunk', () => resolve()));

describe('clients that go away, and a server that goes away', () => {
  let stack: Stack;
  let server: ServerProcess;
  let gemini: GeminiStandIn;

  beforeAll(async () => {
    stack = await startStack();
    ({ server, gemini } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('when a client disconnects mid-reply, then the log has one short info line, no warning, no error and no unhandled rejection', async () => {
    const { token, sessionId } = await newUserSession(server);
    const chat = await connectChat(server.url, { token });
    gemini.enqueue({ text: 'word '.repeat(200), delayMs: 20 });
    await chat.send({ sessionId, content: 'a long answer please' });
    await firstChunk(chat.socket);
    const from = server.logs().length;
    chat.close();

    const cancelled = await server.waitForLog(
      (line) => line.msg === 'chat reply cancelled: the client disconnected' && line.sessionId === sessionId,
    );
    // the aborted stream's last rejections would surface within a few turns of the event loop
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = server.logs().slice(from);
    expect(cancelled).toMatchObject({ level: 'info', trace_id: expect.any(String) });
    expect(cancelled).not.toHaveProperty('err');
    expect(JSON.stringify(cancelled).length).toBeLessThan(500);
    expect(
      after
        .filter((line) => line.level !== 'info' && line.level !== 'debug')
        .map((line) => `${line.level} ${line.msg}`),
    ).toEqual([]);
    expect(after.filter((line) => line.msg === 'unhandled promise rejection')).toEqual([]);
    expect(server.output()).not.toContain('Error reading from the stream');
  });

  it('when SIGTERM arrives during a reply, then /ready answers 503 (not a refused connection) until the reply has finished, then the process exits 0', async () => {
    const { token, sessionId } = await newUserSession(server);
    const chat = await connectChat(server.url, { token });
    gemini.enqueue({
      text: 'one two three four five six',
      chunks: ['one ', 'two ', 'three ', 'four ', 'five ', 'six'],
      delayMs: 400,
    });
    await chat.send({ sessionId, content: 'go on' });
    await firstChunk(chat.socket);
    expect((await api(server, 'GET', '/ready')).status).toBe(200);

    server.child.kill('SIGTERM');
    await server.waitForLog((line) => /shutting down|shutdown/i.test(line.msg));
    const ready = await api(server, 'GET', '/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: 'not ready' } });

    const reply = await chat.nextReply();
    expect(reply.message?.content).toBe('one two three four five six');
    const { code } = await server.exited();
    expect(code).toBe(0);
    // draining is expected: the probes it answers are not warnings
    expect(server.logs().filter((line) => line.msg === 'not ready' && line.level !== 'debug')).toEqual([]);
    await expect(fetch(`${server.url}/ready`)).rejects.toThrow();
  });
});
