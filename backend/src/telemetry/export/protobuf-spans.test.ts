import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { decodeTraceExport } from '../../dev/otlp/decode';
import { createProtobufSpanSerializer } from './protobuf-spans';

const SQL =
  'select "id", "user_id", "title", "description", "budget_cents", "created_at", "updated_at" from "renovation_sessions" where ("renovation_sessions"."id" = $1 and "renovation_sessions"."user_id" = $2) limit $3';

function provider(resource: ReturnType<typeof resourceFromAttributes>, exporter: InMemorySpanExporter) {
  return new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
}

/** Every field the serializer writes, in spans from the real SDK: two resources, scopes with and without versions and schema URLs. */
function spans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const first = provider(
    resourceFromAttributes({ 'service.name': 'renovation', 'host.name': 'vm', 'process.pid': 4242 }),
    exporter,
  );
  const second = provider(resourceFromAttributes({ 'service.name': 'other', 'host.description': 'välue ✓' }), exporter);
  const http = first.getTracer('renovation-agent-backend/http-server', '0.1.0');
  const pg = first.getTracer('@opentelemetry/instrumentation-pg', '0.77.0', {
    schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
  });
  const bare = second.getTracer('bare');
  const remote = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=value,other=x'),
  });
  for (let i = 0; i < 40; i++) {
    const server = http.startSpan(
      'GET /api/sessions/:sessionId',
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': 'GET',
          'url.path': `/api/sessions/${i}`,
          'http.response.status_code': 200,
        },
      },
      i % 3 === 0 ? remote : ROOT_CONTEXT,
    );
    const query = pg.startSpan(
      'SELECT renovation_sessions',
      {
        kind: SpanKind.CLIENT,
        attributes: { 'db.system.name': 'postgresql', 'db.query.text': `${SQL} -- ${i}`, 'server.port': 5432 },
      },
      trace.setSpan(ROOT_CONTEXT, server),
    );
    query.end();
    server.end();
  }
  const odd = bare.startSpan(
    'odd values ✓ ünïcode',
    {
      attributes: {
        long: 'x'.repeat(20_000),
        medium: 'é'.repeat(100),
        empty: '',
        yes: true,
        no: false,
        zero: 0,
        negative: -42,
        big: 2 ** 40,
        hugeNegative: -(2 ** 50),
        float: 3.25,
        strings: ['a', 'ü', ''],
        numbers: [1, -2, 3.5],
        flags: [true, false],
        withHoles: ['a', null, 'b'] as unknown as string[],
      },
      links: [
        { context: trace.getSpanContext(remote)!, attributes: { reason: 'retry', attempt: 2 } },
        { context: { traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: TraceFlags.NONE } },
      ],
    },
    remote,
  );
  odd.addEvent('exception', {
    'exception.message': 'boom ✗',
    'exception.stacktrace': 'Error: boom\n    at x'.repeat(20),
  });
  odd.addEvent('plain');
  odd.setStatus({ code: SpanStatusCode.ERROR, message: 'failed: ✗ '.repeat(30) });
  odd.end();
  const kinds = [SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER];
  for (const kind of kinds) bare.startSpan(`kind ${kind}`, { kind }).end();
  return exporter.getFinishedSpans();
}

describe('OTLP/protobuf span serializer', () => {
  it("when a batch holds every kind of field, then its bytes are exactly upstream's", () => {
    const batch = spans();
    const serializer = createProtobufSpanSerializer();
    const expected = Buffer.from(ProtobufTraceSerializer.serializeRequest(batch)!);
    expect(Buffer.from(serializer.serializeRequest(batch)!).equals(expected)).toBe(true);
    // the writer's buffer is reused: the next batches are whole and independent of the last
    for (const part of [batch.slice(0, 1), batch.slice(5, 70), batch]) {
      const bytes = Buffer.from(serializer.serializeRequest(part)!);
      expect(bytes.equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(part)!))).toBe(true);
    }
  });

  it('when the receiver decodes it, then every span, attribute, event, link and status is there', () => {
    const batch = spans();
    const body = Buffer.from(createProtobufSpanSerializer().serializeRequest(batch)!);
    const received = decodeTraceExport({ contentType: 'application/x-protobuf', body });
    expect(received).toHaveLength(batch.length);
    const odd = received.find((span) => span.name === 'odd values ✓ ünïcode')!;
    expect(odd.attributes).toMatchObject({
      long: 'x'.repeat(20_000),
      medium: 'é'.repeat(100),
      yes: true,
      negative: -42,
      big: 2 ** 40,
      hugeNegative: -(2 ** 50),
      float: 3.25,
      strings: ['a', 'ü', ''],
    });
    expect(odd.parentSpanId).toBe('b7ad6b7169203331');
    expect(odd.events.map((event) => event.name)).toEqual(['exception', 'plain']);
    expect(odd.events[0]!.attributes['exception.message']).toBe('boom ✗');
    expect(odd.links.map((link) => link.spanId)).toEqual(['b7ad6b7169203331', '2'.repeat(16)]);
    expect(odd.status).toEqual({ code: 'ERROR', message: 'failed: ✗ '.repeat(30) });
    expect(odd.resource['host.description']).toBe('välue ✓');
    const query = received.find((span) => span.attributes['db.query.text'] === `${SQL} -- 7`)!;
    expect(query.scope).toEqual({ name: '@opentelemetry/instrumentation-pg', version: '0.77.0' });
    expect(query.kind).toBe('CLIENT');
    const ended = batch.find((span) => span.attributes['db.query.text'] === `${SQL} -- 7`)!;
    expect(query.startTimeUnixNano).toBe(BigInt(ended.startTime[0]) * 1_000_000_000n + BigInt(ended.startTime[1]));
  });

  it('when a batch fails half-way, then the next one carries nothing of it', () => {
    const batch = spans();
    const serializer = createProtobufSpanSerializer();
    const broken = {
      ...batch[0]!,
      spanContext: () => {
        throw new Error('broken span');
      },
    } as ReadableSpan;
    expect(() => serializer.serializeRequest([batch[1]!, broken])).toThrow('broken span');
    expect(
      Buffer.from(serializer.serializeRequest(batch)!).equals(
        Buffer.from(ProtobufTraceSerializer.serializeRequest(batch)!),
      ),
    ).toBe(true);
  });
});
