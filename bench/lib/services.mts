/**
 * The bench's outside world, in its own process so it is the same for every
 * configuration: an OTLP/HTTP sink that accepts and counts spans, and the Gemini stand-in
 * (no streaming delay). Prints one JSON line with their URLs; GET/DELETE /stats on the
 * sink reads or resets its counters; GET /traces?phase=N tells how spans spread over traces.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { countSpans, histogram } from './otlp-count.mts';

const require = createRequire(import.meta.url);
const { startGeminiStandIn } = require('../../backend/dist/dev/gemini-stand-in/server.js');

let spans = 0;
let requests = 0;
let bytes = 0;
// Counters are read per phase (DELETE /stats ends one); traces are kept whole across phases,
// keyed to the phase of their first span, so a trace still finishing when its phase ends is
// counted complete (GET /traces?phase=N: how many traces of phase N held how many spans).
let phase = 0;
const traces = new Map<string, { phase: number; spans: number }>();
const perTrace = new Map<string, number>();
const sink = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://sink');
  if (url.pathname === '/stats') {
    // DELETE answers the counts of the phase so far, then starts the next phase
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ spans, requests, bytes, phase }));
    if (req.method === 'DELETE') {
      spans = requests = bytes = 0;
      phase += 1;
    }
    return;
  }
  if (url.pathname === '/traces') {
    const wanted = Number(url.searchParams.get('phase'));
    const ofPhase = new Map(
      [...traces].filter(([, trace]) => trace.phase === wanted).map(([id, trace]) => [id, trace.spans]),
    );
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(histogram(ofPhase)));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    requests += 1;
    bytes += body.length;
    try {
      perTrace.clear();
      spans += req.headers['content-type']?.includes('json') ? countJsonSpans(body) : countSpans(body, perTrace);
      for (const [traceId, count] of perTrace) {
        const trace = traces.get(traceId) ?? { phase, spans: 0 };
        trace.spans += count;
        traces.set(traceId, trace);
      }
    } catch {
      // a body we cannot read still gets its 200: the sink measures, it does not judge
    }
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' });
    res.end();
  });
});

function countJsonSpans(body: Buffer): number {
  const parsed = JSON.parse(body.toString()) as {
    resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }>;
  };
  return (parsed.resourceSpans ?? []).reduce(
    (sum, rs) => sum + (rs.scopeSpans ?? []).reduce((s, ss) => s + (ss.spans?.length ?? 0), 0),
    0,
  );
}

await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const gemini = await startGeminiStandIn({ chunkDelayMs: 0 });
process.stdout.write(
  `${JSON.stringify({ sink: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`, gemini: gemini.baseUrl })}\n`,
);
process.on('SIGTERM', () => process.exit(0));
