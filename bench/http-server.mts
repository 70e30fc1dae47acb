/**
 * npm run bench:http-server — what the incoming-HTTP instrumentation alone costs per request,
 * upstream's instrumentation-http against ours (backend/src/telemetry/http-server/), on a
 * plain node:http server (no Express, no database) so that nothing else hides it.
 *
 * Each variant is a fresh server process (patching is global) with the SDK as the app sets it
 * up (ALS context manager, W3C propagator, ratio sampler, batch processor with an exporter that
 * drops, a meter provider with a reader); autocannon drives it from this process; the server
 * reports its own CPU time (process.cpuUsage) over the load window. Rounds are interleaved.
 *
 *   npm run bench:http-server                 3 rounds of 5 s per variant
 *   npm run bench:http-server -- --rounds 1 --seconds 3
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { spread } from './lib/stats.mts';

const require = createRequire(import.meta.url);
const VARIANTS = ['none', 'upstream, unsampled', 'ours, unsampled', 'upstream, sampled', 'ours, sampled'] as const;
type Variant = (typeof VARIANTS)[number];

async function serve(variant: Variant): Promise<void> {
  const { context, propagation, trace } = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator, RPCType, getRPCMetadata } = require('@opentelemetry/core');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation');
  const {
    MeterProvider,
    PeriodicExportingMetricReader,
    InMemoryMetricExporter,
    AggregationTemporality,
  } = require('@opentelemetry/sdk-metrics');
  const {
    BatchSpanProcessor,
    ParentBasedSampler,
    TraceIdRatioBasedSampler,
    TracerProvider,
  } = require('@opentelemetry/sdk-trace');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  if (variant !== 'none') {
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 60_000,
    });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const exporter = {
      export: (_spans: unknown[], done: (result: { code: number }) => void) => done({ code: 0 }),
      shutdown: async () => {},
    };
    const provider = new TracerProvider({
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(variant.endsWith(', sampled') ? 1 : 0) }),
      spanProcessors: [new BatchSpanProcessor({ exporter })],
    });
    trace.setGlobalTracerProvider(provider);
    const instrumentation = variant.startsWith('upstream')
      ? new (require('@opentelemetry/instrumentation-http').HttpInstrumentation)({
          disableOutgoingRequestInstrumentation: true,
        })
      : new (require('../backend/dist/telemetry/http-server/index.js').HttpServerInstrumentation)();
    registerInstrumentations({ tracerProvider: provider, meterProvider, instrumentations: [instrumentation] });
  }
  const http = require('node:http');
  const server = http.createServer(
    (
      request: { on(event: string, listener: () => void): void; resume(): void },
      response: { end(body: string): void },
    ) => {
      // the route, as the app's route middleware sets it
      const metadata = getRPCMetadata(context.active());
      if (metadata?.type === RPCType.HTTP) metadata.route = '/items/:id';
      request.on('end', () => response.end('ok'));
      request.resume();
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let started = process.cpuUsage();
  process.on('message', (message: string) => {
    if (message === 'start') started = process.cpuUsage();
    if (message === 'stop') {
      const used = process.cpuUsage(started);
      process.send!({ cpuUs: used.user + used.system });
    }
  });
  process.on('SIGTERM', () => process.exit(0));
  process.send!({ port: server.address().port });
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' } },
  });
  const autocannon = require('autocannon');
  const results = new Map<Variant, number[]>(VARIANTS.map((variant) => [variant, []]));
  for (let round = 1; round <= Number(args.rounds); round++) {
    for (const variant of VARIANTS) {
      const child = fork(import.meta.filename, ['--serve', variant], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const next = () => new Promise<Record<string, number>>((resolve) => child.once('message', resolve));
      const { port } = await next();
      const url = `http://127.0.0.1:${port}/items/1`;
      await autocannon({ url, connections: 10, duration: 2 });
      child.send('start');
      const load = await autocannon({ url, connections: 10, duration: Number(args.seconds) });
      child.send('stop');
      const { cpuUs } = await next();
      child.kill();
      const perRequest = cpuUs! / (load.requests.total as number);
      results.get(variant)!.push(perRequest);
      process.stderr.write(
        `round ${round} ${variant}: ${(load.requests.average as number).toFixed(0)} req/s, ${perRequest.toFixed(1)} µs CPU/req\n`,
      );
    }
  }
  const none = results.get('none')!;
  const lines = [
    '| variant | server CPU µs/req | added µs/req |',
    '|---|---:|---:|',
    ...VARIANTS.map((variant) => {
      const values = results.get(variant)!;
      return `| ${variant} | ${spread(values, 1)} | ${
        variant === 'none'
          ? '0'
          : spread(
              values.map((value, i) => value - none[i]!),
              1,
            )
      } |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

const serveIndex = process.argv.indexOf('--serve');
if (serveIndex !== -1) void serve(process.argv[serveIndex + 1] as Variant);
else if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
