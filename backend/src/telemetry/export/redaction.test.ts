import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactText } from './redaction';
import { SpanHygieneProcessor } from './span-hygiene';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImlhdCI6MTcwMDAwMDAwMH0.abcDEF123_-xyz';

describe('redactText', () => {
  it.each([
    [`Authorization: Bearer ${JWT}`, `Authorization: ${REDACTED}`],
    [`token was ${JWT}!`, `token was ${REDACTED}!`],
    ['key=AIzaSyA1234567890abcdefghijklmnopqrstuv ok', `key=${REDACTED} ok`],
    ['sk-proj-abcdefghijklmnopqrstuvwxyz123456', REDACTED],
    ['aws AKIAIOSFODNN7EXAMPLE here', `aws ${REDACTED} here`],
    ['Basic YWxpY2U6c2VjcmV0cGFzc3dvcmQ=', REDACTED],
  ])('when a string holds a credential (%s), then it is replaced', (input, output) => {
    expect(redactText(input)).toBe(output);
  });

  it('when a URL carries secrets in its query or user info, then their values are replaced and the rest kept', () => {
    expect(redactText('https://x.test/cb?code=abc123&state=ok&access_token=zzz&apiKey=k1', true)).toBe(
      `https://x.test/cb?code=${REDACTED}&state=ok&access_token=${REDACTED}&apiKey=${REDACTED}`,
    );
    expect(redactText('token=abc&page=2', true)).toBe(`token=${REDACTED}&page=2`);
    expect(redactText('postgres://app:s3cret@db:5432/app', true)).toBe(`postgres://${REDACTED}@db:5432/app`);
  });

  it('when a string holds nothing secret, then it is returned unchanged', () => {
    const text = 'select "id" from "renovation_sessions" where "id" = $1 limit $2';
    expect(redactText(text)).toBe(text);
    expect(redactText('/api/sessions?limit=10&page=2', true)).toBe('/api/sessions?limit=10&page=2');
  });
});

describe('SpanHygieneProcessor', () => {
  it('when a span ends with secrets in attributes, events or status, then the exported span has none', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      spanProcessors: [new SpanHygieneProcessor(), new SimpleSpanProcessor({ exporter })],
    });
    const span = provider.getTracer('t').startSpan('op', {
      attributes: {
        'url.query': 'access_token=abc123',
        'http.route': '/api',
        list: ['fine', `Bearer ${JWT}`],
        count: 3,
      },
    });
    span.recordException(new Error(`upstream said: invalid token ${JWT}`));
    span.setStatus({ code: SpanStatusCode.ERROR, message: `bad Bearer ${JWT}` });
    span.end();
    const [exported] = exporter.getFinishedSpans();
    const text = JSON.stringify({
      attributes: exported!.attributes,
      events: exported!.events,
      status: exported!.status,
    });
    expect(text).not.toContain(JWT);
    expect(text).not.toContain('abc123');
    expect(exported!.attributes).toMatchObject({
      'url.query': `access_token=${REDACTED}`,
      'http.route': '/api',
      list: ['fine', REDACTED],
      count: 3,
    });
  });
});

describe('SpanHygieneProcessor attribute trimming', () => {
  it('when a server span ends, then the attributes nobody reads are gone and the useful ones stay', async () => {
    const { SpanKind } = await import('@opentelemetry/api');
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      spanProcessors: [new SpanHygieneProcessor(), new SimpleSpanProcessor({ exporter })],
    });
    const attributes = {
      'network.peer.port': 51234,
      'network.peer.address': '10.0.0.1',
      'url.scheme': 'http',
      'client.address': '10.0.0.1',
      'http.route': '/api',
    };
    provider.getTracer('t').startSpan('GET /api', { kind: SpanKind.SERVER, attributes }).end();
    provider
      .getTracer('t')
      .startSpan('SELECT x', { kind: SpanKind.CLIENT, attributes: { 'server.port': 5432 } })
      .end();
    const [server, client] = exporter.getFinishedSpans();
    expect(server!.attributes).toEqual({ 'client.address': '10.0.0.1', 'http.route': '/api' });
    expect(client!.attributes).toEqual({ 'server.port': 5432 });
  });
});
