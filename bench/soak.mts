/**
 * npm run soak — the backend under mixed load for a long while, with the trace collector
 * cycling through its failure modes and clients walking away mid-reply.
 *
 * Starts the real server (backend/dist/server.js) with its own OTLP collector stand-in and the
 * Gemini stand-in, and drives HTTP requests, chats with tool calls (some clients disconnect as
 * soon as the reply starts streaming) and background plans. The collector goes through phases:
 * ok → 503 → ok → refusing connections → ok → accepting and never answering → ok. At the end it
 * sends SIGTERM and reads the last log line. It reports RSS and heap (after GC) slopes,
 * event-loop delay p99, request latency p50/p99 per phase, errors by type, and where every span
 * went (produced = exported + dropped + undelivered, which must add up), and writes
 * bench/results/soak-<date>.md and .png. No thresholds: it measures.
 *
 *   npm run soak                          10 minutes
 *   npm run soak -- --duration 120        seconds
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import { countSpans } from './lib/otlp-count.mts';
import { database, freePort, log, rssMiB } from './lib/process.mts';
import { percentile } from './lib/stats.mts';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(import.meta.dirname, '..');
const TMP = path.join(ROOT, 'bench', '.tmp', 'soak');

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '600' },
    out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
  },
});
const durationS = Number(args.duration);
const MODES = ['ok', '503', 'ok', 'refused', 'ok', 'hung', 'ok'] as const;
type Mode = (typeof MODES)[number];

/** The collector stand-in: counts the spans it accepts; 503, refused or hung on demand. */
async function startCollector() {
  let mode: Mode = 'ok';
  let accepted = 0;
  const hung = new Set<import('node:http').ServerResponse>();
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (mode === 'hung') {
        hung.add(res);
        return;
      }
      if (mode === '503') {
        res.writeHead(503).end();
        return;
      }
      if (req.url === '/v1/traces') accepted += countSpans(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  };
  let server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    accepted: () => accepted,
    async set(next: Mode) {
      if (mode === 'refused' && next !== 'refused') {
        server = createServer(handler);
        await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      }
      if (mode === 'hung') for (const res of hung) res.destroy();
      hung.clear();
      if (next === 'refused') {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      mode = next;
    },
    close: () =>
      new Promise((resolve) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? Number.NaN : num / den;
}

async function main(): Promise<void> {
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  log(`building; soak for ${durationS} s`);
  const build = spawn(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if ((await new Promise((resolve) => build.once('exit', resolve))) !== 0) throw new Error('build failed');

  const { startGeminiStandIn } = require('../backend/dist/dev/gemini-stand-in/server.js');
  const gemini = await startGeminiStandIn({ chunkDelayMs: 20 });
  const collector = await startCollector();
  const db = await database(TMP);
  const heapFile = path.join(TMP, 'heap.jsonl');
  writeFileSync(heapFile, '');
  const secret = 'soak-secret-soak-secret-soak-secret-0123';
  const metricsPort = await freePort();
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--require', path.join(ROOT, 'bench', 'heap-probe.cjs'), 'backend/dist/server.js'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        DATABASE_URL: db.url,
        JWT_SECRET: secret,
        GEMINI_API_KEY: 'soak-key',
        GEMINI_BASE_URL: gemini.baseUrl,
        GEMINI_MAX_RETRIES: '0',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
        OTEL_BSP_SCHEDULE_DELAY: '500',
        // the event-loop delay is read from the server's own metrics
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
        PLAN_JOB_ATTEMPTS: '1',
        BENCH_HEAP_FILE: heapFile,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  for (let i = 0; !lines.some((line) => String(line.msg).startsWith('listening on')); i++) {
    if (i > 600 || child.exitCode !== null) throw new Error('the server did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const port = lines.find((line) => String(line.msg).startsWith('listening on'))!.port as number;
  const base = `http://127.0.0.1:${port}`;
  const { SignJWT } = require('jose');
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('soak-user')
    .setExpirationTime('4h')
    .sign(new TextEncoder().encode(secret));
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const sessions: string[] = [];
  for (let i = 0; i < 5; i++) {
    const response = await fetch(`${base}/api/sessions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ title: `Soak ${i}`, budgetCents: 3_000_000 }),
    });
    sessions.push(((await response.json()) as { id: string }).id);
  }

  // per phase: latencies of HTTP requests and chat replies, and errors by type
  const phases = MODES.map((mode) => ({
    mode,
    http: [] as number[],
    chat: [] as number[],
    errors: new Map<string, number>(),
  }));
  let phase = 0;
  const error = (type: string) => phases[phase]!.errors.set(type, (phases[phase]!.errors.get(type) ?? 0) + 1);
  const started = Date.now();
  const deadline = started + durationS * 1000;
  const running = () => Date.now() < deadline;
  const samples: Array<{ s: number; rssMiB: number }> = [];
  const loopP99: number[] = [];
  const readLoopDelay = async () => {
    const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
      (response) => response.text(),
      () => '',
    );
    const value = /^nodejs_eventloop_delay_p99(?:\{[^}]*\})? ([\d.e+-]+)/m.exec(text)?.[1];
    if (value !== undefined) loopP99.push(Number(value) * 1000);
  };

  const http = (async () => {
    while (running()) {
      const at = performance.now();
      const response = await fetch(`${base}/api/sessions/${sessions[0]}`, { headers }).catch(() => undefined);
      if (response === undefined) error('http:network');
      else {
        await response.arrayBuffer();
        if (response.status !== 200) error(`http:${response.status}`);
        else phases[phase]!.http.push(performance.now() - at);
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  })();

  const chat = (sessionId: string, walkAway: boolean) =>
    (async () => {
      let sent = 0;
      while (running()) {
        const socket: Socket = io(base, {
          auth: { token },
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
        });
        await new Promise<void>((resolve) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', () => resolve());
        });
        while (running() && socket.connected) {
          const at = performance.now();
          sent += 1;
          const leave = walkAway && sent % 3 === 0;
          const outcome = await new Promise<string>((resolve) => {
            socket.once('chat:assistant_message', () => resolve('ok'));
            socket.once('chat:error', (body: { code?: string }) => resolve(`chat:${body.code ?? 'error'}`));
            if (leave) socket.once('chat:assistant_chunk', () => resolve('left'));
            socket.emit('chat:user_message', { sessionId, content: 'How much would a 12 m2 kitchen cost?' });
          });
          socket.removeAllListeners('chat:assistant_message');
          socket.removeAllListeners('chat:error');
          socket.removeAllListeners('chat:assistant_chunk');
          if (outcome === 'ok') phases[phase]!.chat.push(performance.now() - at);
          else if (outcome === 'left') {
            // the client walks away mid-reply: a normal event for the server
            socket.close();
            break;
          } else error(outcome);
        }
        socket.close();
      }
    })();

  const plans = (async () => {
    while (running()) {
      const response = await fetch(`${base}/api/sessions/${sessions[4]}/plan`, { method: 'POST', headers }).catch(
        () => undefined,
      );
      if (response === undefined || response.status !== 202) error(`plan:${response?.status ?? 'network'}`);
      await response?.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  })();

  const sampler = (async () => {
    while (running()) {
      samples.push({ s: (Date.now() - started) / 1000, rssMiB: rssMiB(child.pid!) });
      if (samples.length % 5 === 0) await readLoopDelay();
      const next = Math.min(MODES.length - 1, Math.floor(((Date.now() - started) / (durationS * 1000)) * MODES.length));
      if (next !== phase) {
        phase = next;
        await collector.set(MODES[phase]!);
        log(`phase ${phase + 1}/${MODES.length}: collector ${MODES[phase]}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  })();

  const heapAfterGc = async () => {
    const before = readFileSync(heapFile, 'utf8').split('\n').filter(Boolean).length;
    child.kill('SIGUSR2');
    for (let i = 0; i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const all = readFileSync(heapFile, 'utf8').split('\n').filter(Boolean);
      if (all.length > before) return (JSON.parse(all.at(-1)!) as { heapUsed: number }).heapUsed / 2 ** 20;
    }
    return Number.NaN;
  };
  const heap: Array<[number, number]> = [];
  const heapSampler = (async () => {
    while (running()) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(5_000, (durationS * 1000) / 12)));
      heap.push([(Date.now() - started) / 60_000, await heapAfterGc()]);
    }
  })();

  await Promise.all([
    http,
    chat(sessions[1]!, false),
    chat(sessions[2]!, true),
    chat(sessions[3]!, false),
    plans,
    sampler,
    heapSampler,
  ]);
  await collector.set('ok');
  log('stopping the server');
  child.kill('SIGTERM');
  await exited;
  await collector.close();
  await gemini.close();
  await db.stop();

  const last = lines.at(-1) ?? {};
  const n = (key: string) => Number(last[key] ?? 0);
  const adds =
    n('sentSpans') ===
    n('exportedSpans') + n('droppedSpans') + n('queueFullSpans') + n('rejectedSpans') + n('undeliveredSpans');
  const date = new Date().toISOString().slice(0, 10);
  const rssSlope = slope(samples.slice(Math.floor(samples.length / 10)).map(({ s, rssMiB }) => [s / 60, rssMiB]));
  const heapSlope = slope(heap);
  const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
  const markdown = `# Soak, ${date}

${durationS} s of mixed load (HTTP every 30 ms, 3 chat clients with tool calls, one of them walking away mid-reply every
third message, a plan every 2 s) with the collector cycling ${MODES.join(' → ')}. Reproduce: \`npm run soak -- --duration ${durationS}\`.

| phase | collector | HTTP requests | HTTP p50 ms | HTTP p99 ms | chat replies | chat p50 ms | chat p99 ms | errors |
|---|---|---:|---:|---:|---:|---:|---:|---|
${phases
  .map(
    (p, i) =>
      `| ${i + 1} | ${p.mode} | ${p.http.length} | ${fmt(percentile(p.http, 50))} | ${fmt(percentile(p.http, 99))} | ${p.chat.length} | ${fmt(percentile(p.chat, 50), 0)} | ${fmt(percentile(p.chat, 99), 0)} | ${[...p.errors].map(([type, count]) => `${type} × ${count}`).join(', ') || '–'} |`,
  )
  .join('\n')}

| figure | value |
|---|---:|
| RSS slope after warm-up | ${fmt(rssSlope, 2)} MiB/min |
| heap after GC, slope | ${fmt(heapSlope, 2)} MiB/min (${heap.map(([, mib]) => fmt(mib)).join(', ')} MiB) |
| event-loop delay p99 (median / worst 5-s reading) | ${loopP99.length > 0 ? `${fmt(percentile(loopP99, 50))} / ${fmt(Math.max(...loopP99))} ms` : 'n/a'} |
| spans produced (sampled, ended) | ${n('sentSpans')} |
| exported | ${n('exportedSpans')} (the collector counted ${collector.accepted()}) |
| dropped: buffer full / queue full / rejected | ${n('droppedSpans')} / ${n('queueFullSpans')} / ${n('rejectedSpans')} |
| undelivered at exit | ${n('undeliveredSpans')} |
| produced = exported + dropped + undelivered | ${adds ? 'yes' : '**no**'} |
| exit | ${String(last.msg ?? '?')}, code ${String(last.exitCode ?? '?')} |

![RSS over time](soak-${date}.png)
`;
  mkdirSync(args.out as string, { recursive: true });
  writeFileSync(path.join(args.out as string, `soak-${date}.md`), markdown);
  writeFileSync(path.join(args.out as string, `soak-${date}.png`), drawRss(samples, date));
  process.stdout.write(markdown);
  log(`wrote ${path.join(args.out as string, `soak-${date}.md`)}`);
}

/** RSS over time, with the collector's phases as bands. */
function drawRss(samples: Array<{ s: number; rssMiB: number }>, date: string): Buffer {
  const { createCanvas } = require('@napi-rs/canvas');
  const width = 1000;
  const height = 360;
  const canvas = createCanvas(width, height);
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  const [left, right, top, bottom] = [60, width - 20, 50, height - 40];
  const maxS = Math.max(1, ...samples.map(({ s }) => s));
  const maxMiB = Math.max(1, ...samples.map(({ rssMiB }) => rssMiB)) * 1.1;
  MODES.forEach((mode, i) => {
    g.fillStyle = mode === 'ok' ? '#f4fbf4' : '#fdf0ec';
    const x0 = left + ((right - left) * i) / MODES.length;
    g.fillRect(x0, top, (right - left) / MODES.length, bottom - top);
    g.fillStyle = '#888';
    g.font = '12px sans-serif';
    g.fillText(mode, x0 + 6, top + 14);
  });
  g.fillStyle = '#222';
  g.font = 'bold 16px sans-serif';
  g.fillText(`Soak ${date}: server RSS (MiB) while the collector fails and recovers`, left, 30);
  g.strokeStyle = '#2e86de';
  g.lineWidth = 2;
  g.beginPath();
  samples.forEach(({ s, rssMiB }, i) => {
    const x = left + (s / maxS) * (right - left);
    const y = bottom - (rssMiB / maxMiB) * (bottom - top);
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
  g.fillStyle = '#555';
  g.font = '12px sans-serif';
  for (let i = 0; i <= 4; i++) g.fillText(((maxMiB * i) / 4).toFixed(0), 10, bottom - ((bottom - top) * i) / 4 + 4);
  g.fillText(`${maxS.toFixed(0)} s`, right - 30, bottom + 20);
  return canvas.toBuffer('image/png');
}

main().catch((failure: unknown) => {
  console.error(failure);
  process.exit(1);
});
