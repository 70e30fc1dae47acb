/**
 * npm run bench — what tracing costs, measured side by side.
 *
 * Starts the real server (backend/dist/server.js, as npm start does) once per
 * configuration and round, interleaved (A B C D E, B C D E A, …) so the machine's drift hits
 * all alike, and drives it from this process:
 *   A  tracing off (OTEL_SDK_DISABLED=true): the limit
 *   B  our configuration, 100% sampled, exporting to a local OTLP sink
 *   C  our configuration, 10% sampled
 *   D  @opentelemetry/auto-instrumentations-node/register with its defaults, 100%, same sink
 *   E  as C with metrics off (OTEL_METRICS_EXPORTER=none): C − E is what metrics cost
 * B and C serve their metrics on a Prometheus endpoint (the same record path as OTLP), read
 * after the run for the series count. Then one round of `bench/profile.mts` (the CPU-profile
 * breakdown per code group) goes into the report.
 * Routes: the DB-backed GET /api/sessions/:id (saturated throughput with autocannon for
 * 14 s, enough for the 10,000 requests the heap check needs, and
 * latency at a fixed rate) and a chat message round trip over Socket.io with the Gemini
 * stand-in. Writes bench/results/<date>.md and a PNG chart; thresholds are judged in the
 * report, never in a test.
 *
 *   npm run bench                     3 rounds (about 5 minutes on 2 cores)
 *   npm run bench -- --rounds 5
 *   npm run bench -- --smoke          1 short round: checks the harness, measures nothing
 *   npm run bench -- --profile B      also write a --cpu-prof of each B run to bench/.tmp/run/prof
 *   npm run bench -- --only B --server-logs   A and B only, server logs in bench/.tmp/run
 *   npm run bench -- --no-breakdown     without the profile breakdown
 *   npm run bench -- --instructions 3   3 rounds of the instruction count (default 1; 0: none)
 *
 * With valgrind installed, the report also counts the instructions each configuration
 * executes per request (bench/instructions.mts, about 10 minutes a round): the machine's
 * load moves throughput by ±30% and leaves instruction counts alone, so the targets are
 * judged on both.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { drawChart } from './lib/chart.mts';
import { atFixedRate, chatRoundTrips, saturate } from './lib/load.mts';
import { measureLogLine } from './lib/log-line.mts';
import { cpuMicros, database, freePort, log } from './lib/process.mts';
import {
  type ConfigName,
  type InstructionSummary,
  type Instructions,
  renderReport,
  type RunResult,
} from './lib/report.mts';
import {
  baseEnv,
  build,
  configEnv,
  configNodeArgs,
  createSession,
  ROOT,
  signIn,
  probeHeap,
  startServer,
  startServices,
} from './lib/server.mts';

// its own folder: the other benches' (profile, instructions, soak) may be in use beside it (the test suite runs their smoke runs at once)
const TMP = path.join(ROOT, 'bench', '.tmp', 'run');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    profile: { type: 'string', multiple: true, default: [] },
    only: { type: 'string', multiple: true, default: [] },
    'server-logs': { type: 'boolean', default: false },
    'no-breakdown': { type: 'boolean', default: false },
    // rounds of the instruction count (bench/instructions.mts, valgrind): 0 leaves it out
    instructions: { type: 'string', default: '1' },
  },
});
const smoke = args.smoke;
const rounds = smoke ? 1 : Number(args.rounds);
const T = smoke
  ? { warmup: 0.5, saturate: 1, fixed: 1, chat: 1, rate: 50, chatClients: 2 }
  : { warmup: 3, saturate: 14, fixed: 6, chat: 6, rate: 200, chatClients: 4 };
const CONFIGS: ConfigName[] =
  (args.only as string[]).length > 0
    ? ['A', ...(args.only as ConfigName[]).filter((c) => c !== 'A')]
    : ['A', 'B', 'C', 'D', 'E'];

async function sinkStats(sink: string, reset = false): Promise<{ spans: number; phase: number }> {
  const response = await fetch(`${sink}/stats`, { method: reset ? 'DELETE' : 'GET' });
  return (await response.json()) as { spans: number; phase: number };
}

/** How many traces first seen in `phase` hold how many spans, counted once they are complete. */
async function spansPerTrace(sink: string, phase: number): Promise<Record<string, number>> {
  return (await (await fetch(`${sink}/traces?phase=${phase}`)).json()) as Record<string, number>;
}

/** Series on the Prometheus endpoint: sample lines, and `http_server_request_duration` count lines (one per label set). */
async function metricSeries(port: number): Promise<{ metricSeries: number; httpDurationSeries: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  return {
    metricSeries: samples.length,
    httpDurationSeries: samples.filter((line) => line.startsWith('http_server_request_duration_count')).length,
  };
}

async function runOnce(
  config: ConfigName,
  round: number,
  services: { sink: string; gemini: string },
  databaseUrl: string,
): Promise<RunResult> {
  const port = await freePort();
  const heapFile = path.join(TMP, `heap-${config}-${round}.jsonl`);
  writeFileSync(heapFile, '');
  const nodeArgs = ['--expose-gc', '--require', path.join(ROOT, 'bench', 'heap-probe.cjs'), ...configNodeArgs(config)];
  if ((args.profile as string[]).includes(config))
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', path.join(TMP, 'prof'));
  const prometheusPort = config === 'B' || config === 'C' ? await freePort() : undefined;
  const env = {
    ...baseEnv({ port, databaseUrl, ...services, serviceName: `bench-${config}` }),
    ...configEnv(config, prometheusPort),
    BENCH_HEAP_FILE: heapFile,
  };
  const stdout = args['server-logs'] ? openSync(path.join(TMP, `server-${config}-${round}.log`), 'w') : 'ignore';
  const server = await startServer({ label: config, env, nodeArgs, stdout });
  const { child, base } = server;
  try {
    const { token, headers } = await signIn(`bench-${config}-${round}`);
    const sessions: string[] = [];
    for (let i = 0; i < 1 + T.chatClients; i++) sessions.push(await createSession(base, headers, `Bench ${i}`));
    const url = `${base}/api/sessions/${sessions[0]}`;

    await saturate(url, headers, T.warmup);
    const heapBefore = await probeHeap(child, heapFile);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await sinkStats(services.sink, true);
    const cpuBefore = cpuMicros(child.pid!);
    const saturated = await saturate(url, headers, T.saturate);
    const cpuPerRequestUs = (cpuMicros(child.pid!) - cpuBefore) / saturated.requests;
    const heapAfter = await probeHeap(child, heapFile);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const { spans, phase: saturatedPhase } = await sinkStats(services.sink, true);
    const fixed = await atFixedRate(url, headers, T.rate, T.fixed);
    const chat = await chatRoundTrips(base, token, sessions.slice(1), T.chat);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const chatSpans = (await sinkStats(services.sink, true)).spans;
    const memory = await probeHeap(child, heapFile);
    const series = prometheusPort !== undefined ? await metricSeries(prometheusPort) : undefined;
    return {
      ...series,
      config,
      round,
      requestsPerSecond: saturated.requestsPerSecond,
      cpuPerRequestUs,
      errors: saturated.errors + chat.errors,
      p50Us: fixed.p50Us,
      p99Us: fixed.p99Us,
      peakRssMiB: memory.peakRss / 2 ** 20,
      heapBeforeMiB: heapBefore.heapUsed / 2 ** 20,
      heapAfterMiB: heapAfter.heapUsed / 2 ** 20,
      requestsBetweenHeaps: saturated.requests,
      spansPerRequest: spans / saturated.requests,
      spansPerTrace: await spansPerTrace(services.sink, saturatedPhase),
      chatMessagesPerSecond: chat.messagesPerSecond,
      chatP50Ms: chat.p50Ms,
      chatP99Ms: chat.p99Ms,
      spansPerChatMessage: chat.messages > 0 ? chatSpans / chat.messages : Number.NaN,
    };
  } finally {
    await server.stop();
  }
}

/**
 * The instruction count (bench/instructions.mts) of the same configurations but D, when
 * valgrind is there: the figures the end-to-end runs cannot separate from the machine's noise.
 */
async function countInstructions(databaseUrl: string): Promise<Instructions | undefined> {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    log('valgrind is not installed: no instruction count (Debian: apt-get install -y valgrind)');
    return undefined;
  }
  const rounds = Number(args.instructions);
  log(`instruction count (bench/instructions.mts, ${rounds} round(s), about 10 minutes a round)`);
  const json = path.join(TMP, 'instructions.json');
  const only = CONFIGS.filter((config) => config !== 'A' && config !== 'D').flatMap((config) => ['--only', config]);
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bench', 'instructions.mts'),
      '--no-build',
      '--rounds',
      String(rounds),
      ...only,
      '--functions',
      '25',
      '--json',
      json,
      '--out',
      path.join(TMP, 'instructions-out'),
    ],
    { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  if ((await new Promise((resolve) => child.once('exit', resolve))) !== 0) return undefined;
  return { markdown: output.trim(), summary: JSON.parse(readFileSync(json, 'utf8')) as InstructionSummary };
}

async function main(): Promise<void> {
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(path.join(TMP, 'prof'), { recursive: true });
  log(`building; ${rounds} round(s) of ${CONFIGS.join(' ')}${smoke ? ' (smoke)' : ''}`);
  await build();

  const services = await startServices();
  const db = await database(TMP);
  const results: RunResult[] = [];
  let breakdown: string | undefined;
  let instructions: Instructions | undefined;
  try {
    for (let round = 1; round <= rounds; round++) {
      // each round starts one configuration later, so no configuration always runs first
      // (right after the previous round's slowest one) or always last
      const shift = (round - 1) % CONFIGS.length;
      for (const config of [...CONFIGS.slice(shift), ...CONFIGS.slice(0, shift)]) {
        log(`round ${round}: ${config}`);
        const result = await runOnce(config, round, services, db.url);
        log(
          `  ${result.requestsPerSecond.toFixed(0)} req/s, ${result.cpuPerRequestUs.toFixed(0)} µs CPU/req, p50 ${result.p50Us.toFixed(0)} µs, p99 ${result.p99Us.toFixed(0)} µs, peak RSS ${result.peakRssMiB.toFixed(0)} MiB, chat p50 ${result.chatP50Ms.toFixed(1)} ms`,
        );
        results.push(result);
      }
    }
    if (!smoke && !args['no-breakdown']) {
      log('profile breakdown (bench/profile.mts, 1 round)');
      const profileArgs = [
        path.join(ROOT, 'bench', 'profile.mts'),
        '--no-build',
        '--rounds',
        '1',
        '--out',
        path.join(TMP, 'profile-out'),
      ];
      const profile = spawn(process.execPath, profileArgs, {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: db.url },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      profile.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      if ((await new Promise((resolve) => profile.once('exit', resolve))) === 0) breakdown = output.trim();
    }
    if (!smoke && Number(args.instructions) > 0) instructions = await countInstructions(db.url);
  } finally {
    services.child.kill('SIGTERM');
    await db.stop();
  }

  log('log-line cost');
  const logLine = measureLogLine(smoke ? { lines: 5_000, rounds: 2 } : {});
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const date = new Date().toISOString().slice(0, 10);
  const report = renderReport({
    results,
    logLine,
    machine,
    date,
    rounds,
    smoke,
    durations: T,
    breakdown,
    instructions,
  });
  mkdirSync(args.out as string, { recursive: true });
  const stem = path.join(args.out as string, smoke ? `smoke-${date}` : date);
  writeFileSync(`${stem}.md`, report.markdown.replace('CHART', path.basename(`${stem}.png`)));
  writeFileSync(`${stem}.png`, await drawChart(report.chart, `${date} · ${machine}`));
  process.stdout.write(`${report.markdown.replace('CHART', path.basename(`${stem}.png`))}\n`);
  log(`wrote ${stem}.md and ${stem}.png`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
