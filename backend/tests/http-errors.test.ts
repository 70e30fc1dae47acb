import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../testing/otlp-receiver';
import { api, startServer, testEnv, tokenFor, uniqueUser, type ServerProcess } from '../testing/server-process';

describe('HTTP API: bad input gets a clear 4xx, never a 500', () => {
  let receiver: OtlpReceiver;
  let server: ServerProcess;
  let token: string;
  let sessionId: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    server = await startServer({ env: { ...testEnv(inject('databaseUrl'), receiver.url), BODY_LIMIT: '2kb' } });
    token = await tokenFor(uniqueUser());
    sessionId = (await api(server, 'POST', '/api/sessions', { token, body: { title: 'Attic' } })).body.id;
  });

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  const cases: Array<{
    name: string;
    request: () => Promise<{ method: string; route: string; options: Parameters<typeof api>[3] }>;
    status: number;
    code: string;
  }> = [
    {
      name: 'no token',
      request: async () => ({ method: 'GET', route: '/api/sessions', options: {} }),
      status: 401,
      code: 'UNAUTHORIZED',
    },
    {
      name: 'a malformed token',
      request: async () => ({
        method: 'GET',
        route: '/api/sessions',
        options: { headers: { authorization: 'Bearer not-a-jwt' } },
      }),
      status: 401,
      code: 'UNAUTHORIZED',
    },
    {
      name: 'a token signed with another secret',
      request: async () => ({
        method: 'GET',
        route: '/api/sessions',
        options: { token: await tokenFor('mallory', { secret: 'another-secret-another-secret-another-secret!!' }) },
      }),
      status: 401,
      code: 'UNAUTHORIZED',
    },
    {
      name: 'an expired token',
      request: async () => ({
        method: 'GET',
        route: '/api/sessions',
        options: { token: await tokenFor('alice', { expiresIn: '-1m' }) },
      }),
      status: 401,
      code: 'UNAUTHORIZED',
    },
    {
      name: 'a Basic authorization header',
      request: async () => ({
        method: 'GET',
        route: '/api/sessions',
        options: { headers: { authorization: 'Basic YWxpY2U6cHc=' } },
      }),
      status: 401,
      code: 'UNAUTHORIZED',
    },
    {
      name: 'malformed JSON',
      request: async () => ({
        method: 'POST',
        route: '/api/sessions',
        options: { token, body: '{"title": "x",', headers: { 'content-type': 'application/json' } },
      }),
      status: 400,
      code: 'INVALID_JSON',
    },
    {
      name: 'a body over the limit',
      request: async () => ({
        method: 'POST',
        route: '/api/sessions',
        options: { token, body: { title: 'x', description: 'y'.repeat(4000) } },
      }),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      name: 'a text body',
      request: async () => ({
        method: 'POST',
        route: '/api/sessions',
        options: { token, body: 'title=x', headers: { 'content-type': 'text/plain' } },
      }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'no body',
      request: async () => ({ method: 'POST', route: '/api/sessions', options: { token } }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a JSON array body',
      request: async () => ({ method: 'POST', route: '/api/sessions', options: { token, body: [{ title: 'x' }] } }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'an empty title',
      request: async () => ({ method: 'POST', route: '/api/sessions', options: { token, body: { title: '   ' } } }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a title over 200 characters',
      request: async () => ({
        method: 'POST',
        route: '/api/sessions',
        options: { token, body: { title: 'x'.repeat(201) } },
      }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a negative budget',
      request: async () => ({
        method: 'POST',
        route: '/api/sessions',
        options: { token, body: { title: 'x', budgetCents: -1 } },
      }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a budget beyond a 32-bit integer',
      request: async () => ({
        method: 'POST',
        route: '/api/sessions',
        options: { token, body: { title: 'x', budgetCents: 2 ** 40 } },
      }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a fractional budget',
      request: async () => ({
        method: 'POST',
        route: '/api/sessions',
        options: { token, body: { title: 'x', budgetCents: 10.5 } },
      }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a NUL character the database cannot store',
      request: async () => ({
        method: 'POST',
        route: '/api/sessions',
        options: { token, body: { title: 'a\u0000b' } },
      }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'an unknown field',
      request: async () => ({
        method: 'POST',
        route: '/api/sessions',
        options: { token, body: { title: 'x', owner: 'bob' } },
      }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a session id that is not a UUID',
      request: async () => ({ method: 'GET', route: '/api/sessions/not-a-uuid', options: { token } }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'an unknown session',
      request: async () => ({
        method: 'GET',
        route: '/api/sessions/00000000-0000-4000-8000-000000000000',
        options: { token },
      }),
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: "someone else's session",
      request: async () => ({
        method: 'GET',
        route: `/api/sessions/${sessionId}`,
        options: { token: await tokenFor(uniqueUser('other')) },
      }),
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'a payment of zero',
      request: async () => ({
        method: 'POST',
        route: '/api/payments',
        options: { token, body: { sessionId, amountCents: 0, currency: 'EUR' } },
      }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a payment in a 4-letter currency',
      request: async () => ({
        method: 'POST',
        route: '/api/payments',
        options: { token, body: { sessionId, amountCents: 10, currency: 'EURO' } },
      }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a payment with the amount as a string',
      request: async () => ({
        method: 'POST',
        route: '/api/payments',
        options: { token, body: { sessionId, amountCents: '10', currency: 'EUR' } },
      }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: "a payment for someone else's session",
      request: async () => ({
        method: 'POST',
        route: '/api/payments',
        options: { token: await tokenFor(uniqueUser('other')), body: { sessionId, amountCents: 10, currency: 'EUR' } },
      }),
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'an unknown route',
      request: async () => ({ method: 'GET', route: '/api/nothing-here', options: { token } }),
      status: 404,
      code: 'NOT_FOUND',
    },
  ];

  for (const testCase of cases) {
    it(`when a client sends ${testCase.name}, then it gets ${testCase.status} ${testCase.code}`, async () => {
      const { method, route, options } = await testCase.request();
      const response = await api(server, method, route, options);
      expect(response.status).toBe(testCase.status);
      expect(response.body).toMatchObject({ error: { code: testCase.code, message: expect.any(String) } });
      expect(response.headers.get('x-request-id')).toBeTruthy();
      if (testCase.status === 401) expect(response.headers.get('www-authenticate')).toBe('Bearer');
    });
  }

  it('when a bad request is refused, then nothing is stored', async () => {
    const before = await api(server, 'GET', '/api/sessions', { token });
    await api(server, 'POST', '/api/sessions', { token, body: { title: '' } });
    await api(server, 'POST', '/api/payments', { token, body: { sessionId, amountCents: -5, currency: 'EUR' } });
    const after = await api(server, 'GET', '/api/sessions', { token });
    expect(after.body.sessions).toHaveLength(before.body.sessions.length);
  });

  it('when a refused request is traced, then its server span is named after the route, not the mount path', async () => {
    const response = await api(server, 'GET', '/api/sessions/not-a-uuid', { token });
    const root = await receiver.waitForSpan(
      (span) => span.traceId === response.headers.get('x-trace-id') && span.kind === 'SERVER',
    );
    expect(root.name).toBe('GET /api/sessions/:sessionId');
    expect(root.attributes['http.response.status_code']).toBe(400);
    expect(root.status.code).toBe('UNSET');
  });

  it('when a request id is malformed, then a new one replaces it', async () => {
    const tooLong = await api(server, 'GET', '/health', { headers: { 'x-request-id': 'x'.repeat(129) } });
    expect(tooLong.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const injected = await api(server, 'GET', '/api/sessions', { token, headers: { 'x-request-id': 'abc"><script>' } });
    expect(injected.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await api(server, 'GET', '/api/sessions', { token, headers: { 'x-request-id': 'A-b_c.9' } });
    expect(kept.headers.get('x-request-id')).toBe('A-b_c.9');
  });

  it('when clients send tokens and cookies, then no span attribute and no log line contains them', async () => {
    const secretToken = await tokenFor(uniqueUser('secretive'));
    await api(server, 'GET', '/api/sessions', { token: secretToken, headers: { cookie: 'sid=cookie-secret-value' } });
    await api(server, 'GET', '/api/sessions', {
      token: secretToken,
      body: undefined,
      headers: { 'x-api-key': 'api-key-secret-value' },
    });
    const bad = await api(server, 'GET', '/api/sessions/not-a-uuid', { token: secretToken });
    await receiver.waitForSpan((span) => span.traceId === bad.headers.get('x-trace-id') && span.kind === 'SERVER');
    await new Promise((resolve) => setTimeout(resolve, 300));

    const signature = secretToken.split('.')[2]!;
    const exported = JSON.stringify(receiver.spans(), (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    const logged = server.output();
    for (const secret of [secretToken, signature, 'cookie-secret-value', 'api-key-secret-value', 'Bearer ']) {
      expect(exported).not.toContain(secret);
      expect(logged).not.toContain(secret);
    }
  });

  it('when all those requests were served, then the server never answered 500 and is still healthy', async () => {
    const failures = server.logs().filter((line) => typeof line.status === 'number' && (line.status as number) >= 500);
    expect(failures).toEqual([]);
    expect((await api(server, 'GET', '/health')).status).toBe(200);
  });
});
