import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../testing/otlp-receiver';
import { api, startServer, testEnv, tokenFor, uniqueUser, type ServerProcess } from '../testing/server-process';

describe('OTEL_SDK_DISABLED=true', () => {
  let receiver: OtlpReceiver;
  let server: ServerProcess;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    server = await startServer({ env: { ...testEnv(inject('databaseUrl'), receiver.url), OTEL_SDK_DISABLED: 'true' } });
  });

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it('when tracing is disabled, then the API works, responses carry a request id but no trace id, and nothing is exported', async () => {
    const token = await tokenFor(uniqueUser());
    const created = await api(server, 'POST', '/api/sessions', {
      token,
      body: { title: 'Porch' },
      headers: { 'x-request-id': 'no-tracing-1' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBe('no-tracing-1');
    expect(created.headers.get('x-trace-id')).toBeNull();
    const fetched = await api(server, 'GET', `/api/sessions/${created.body.id}`, { token });
    expect(fetched.status).toBe(200);

    const line = await server.waitForLog(
      (entry) => entry.msg === 'request completed' && entry.request_id === 'no-tracing-1',
    );
    expect(line).not.toHaveProperty('trace_id');
    expect(line).toMatchObject({ route: '/api/sessions', status: 201 });

    const { code } = await server.stop();
    expect(code).toBe(0);
    expect(receiver.requests()).toEqual([]);
  });
});
