/**
 * npm run bench:instructions — what tracing costs, counted in instructions rather than timed.
 *
 * On a shared 2-core machine a configuration's throughput moves by ±30% from one run to the
 * next, more than the few percent the overhead targets are about. Instructions executed do
 * not move with the machine's load: this bench runs the real server (backend/dist/server.js)
 * under `valgrind --tool=callgrind`, interleaved A B C E × rounds like `npm run bench`, sends
 * it a fixed number of GET /api/sessions/:id (JWT, two SQL queries) as a warm-up, then
 * counts every instruction the process executes (all its threads: JIT, GC, the exporter)
 * while it serves a fixed number more, and divides. The same sink and Gemini stand-in as
 * `npm run bench`; configurations as there (bench/lib/server.mts).
 *
 * Instructions are not time (a cache miss costs more than an add), but they are the CPU
 * work itself, measured to a fraction of a percent. The ratio A/X is what X's throughput
 * would be against A were the server bound by that work alone; the added instructions per
 * request, at A's native instructions per µs of CPU (A is also timed natively, outside
 * valgrind), are what a request at low load waits for on its way through.
 *
 * The batch processor's schedule delay is raised for every configuration: under valgrind a
 * second holds about a fiftieth of the requests it holds natively, and a timer that fires
 * every 500 ms would export after every few requests. With it out of the way, exports start
 * when a batch fills, as they do at production rates (5 s holds thousands of requests).
 *
 *   npm run bench:instructions                  3 rounds of A B C E (about 30 minutes on 2 cores)
 *   npm run bench:instructions -- --rounds 5 --only C
 *   npm run bench:instructions -- --functions 30   also where the instructions go: by group of
 *                                                  code and the 30 functions that differ most
 *   npm run bench:instructions -- --smoke          a few requests, checks the harness only
 *
 * `--functions` runs node with `--perf-basic-prof`, whose map names the JIT code's addresses
 * (bench/lib/callgrind.mts); builtins and V8's C++ are named by their own symbols, and count
 * where they run (an allocation's GC in `GC`, not in the function that allocated).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { COMPILERS, FULL_GC, groupOfFunction, namedInstructions } from './lib/callgrind.mts';
import { fixedCount, saturate } from './lib/load.mts';
import { cpuMicros, database, freePort, log } from './lib/process.mts';
import { type ConfigName, type InstructionSummary, LABELS } from './lib/report.mts';
import {
  baseEnv,
  build,
  configEnv,
  configNodeArgs,
  createSession,
  probeHeap,
  ROOT,
  signIn,
  startServer,
  startServices,
} from './lib/server.mts';
import { median, spread } from './lib/stats.mts';

const TMP = path.join(ROOT, 'bench', '.tmp', 'instructions');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '5000' },
    connections: { type: 'string', default: '8' },
    only: { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    'no-build': { type: 'boolean', default: false },
    functions: { type: 'string', default: '0' },
    smoke: { type: 'boolean', default: false },
    // also the ratios as JSON, for `npm run bench` to judge its targets by
    json: { type: 'string' },
    // the report again from the dumps of the last run (bench/.tmp/instructions), counting nothing
    'report-only': { type: 'boolean', default: false },
  },
});
const smoke = args.smoke;
const FUNCTIONS = Number(args.functions);
const only = args.only as ConfigName[];
const CONFIGS: ConfigName[] = only.length > 0 ? ['A', ...only.filter((c) => c !== 'A')] : ['A', 'B', 'C', 'E'];
// --smoke: one round of a few requests, to check the harness (the test suite runs it); measures nothing
const REQUESTS = smoke ? 30 : Number(args.requests);
const WARMUP = smoke ? 100 : Number(args.warmup);
const NATIVE = smoke ? { seconds: 0.5, requests: 200 } : { seconds: 3, requests: 10_000 };
const CONNECTIONS = Number(args.connections);

interface Count {
  config: ConfigName;
  round: number;
  /** instructions per request, load phase */
  perRequest: number;
  /** of which V8's optimising compilers (a warm-up cost: steady state compiles next to nothing) */
  compilePerRequest: number;
  /** of which full (mark-compact) garbage collections, the one that ends the count included */
  fullGcPerRequest: number;
  /** of which the rest of the garbage collector (the young generation's scavenges, mostly) */
  otherGcPerRequest: number;
  loadSeconds: number;
  errors: number;
  /** with --functions: self instructions per request by function name */
  functions?: Map<string, number>;
}

/** What a run leaves in its folder besides the dump: enough to report it again (--report-only). */
interface RunRecord {
  config: ConfigName;
  round: number;
  requests: number;
  seconds: number;
  errors: number;
}

/** A run's figures, from its folder: `run.json`, `load.callgrind` and, with --functions, `perf.map`. */
function readCount(dir: string): Count {
  const run = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunRecord;
  const perfMap = path.join(dir, 'perf.map');
  const named = namedInstructions(path.join(dir, 'load.callgrind'), existsSync(perfMap) ? perfMap : undefined);
  const groups = new Map<string, number>();
  let total = 0;
  for (const [name, n] of named) {
    groups.set(groupOfFunction(name), (groups.get(groupOfFunction(name)) ?? 0) + n);
    total += n;
  }
  const per = (n: number) => n / run.requests;
  return {
    config: run.config,
    round: run.round,
    perRequest: per(total),
    compilePerRequest: per(groups.get(COMPILERS) ?? 0),
    fullGcPerRequest: per(groups.get(FULL_GC) ?? 0),
    otherGcPerRequest: per((groups.get('GC, young generation') ?? 0) + (groups.get('GC, other') ?? 0)),
    functions: FUNCTIONS > 0 ? new Map([...named].map(([name, n]) => [name, per(n)])) : undefined,
    loadSeconds: run.seconds,
    errors: run.errors,
  };
}

/**
 * The total of the next callgrind dump of `pid` in `dir` (`callgrind.<pid>.<n>`), renamed
 * `<as>.callgrind` once read (for `callgrind_annotate`). callgrind_control returns when the request is delivered; the dump is written when
 * valgrind next schedules the process, so it is waited for until its last line is there.
 */
async function dumpTotal(dir: string, pid: number, base: string, as: string): Promise<number> {
  const dump = new RegExp(`^callgrind\\.${pid}\\.\\d+$`);
  for (let waited = 0; waited < 120_000; waited += 100) {
    // an idle server sits in epoll_wait, where valgrind does not look at its commands: a
    // request to /health (untraced, a few thousand instructions) wakes it
    await fetch(`${base}/health`).catch(() => undefined);
    for (const name of readdirSync(dir).filter((entry) => dump.test(entry))) {
      const total = /^totals:\s*(\d+)/m.exec(readFileSync(path.join(dir, name), 'utf8'));
      if (total === null) continue;
      renameSync(path.join(dir, name), path.join(dir, `${as}.callgrind`));
      return Number(total[1]);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no callgrind dump of ${pid} in ${dir}`);
}

/**
 * Sends a command to the valgrind'ed server. vgdb finds it by FIFOs named after the USER and
 * HOST variables of the process (the server's HOST is its listen address), so it runs with
 * the server's own environment.
 */
function callgrindControl(flag: string[], pid: number, env: Record<string, string>): void {
  execFileSync('callgrind_control', [...flag, String(pid)], { env, stdio: 'ignore', timeout: 120_000 });
}

async function countOnce(
  config: ConfigName,
  round: number,
  services: { sink: string; gemini: string },
  databaseUrl: string,
): Promise<Count> {
  const dir = path.join(TMP, `${config}-${round}`);
  mkdirSync(dir, { recursive: true });
  const heapFile = path.join(dir, 'heap.jsonl');
  writeFileSync(heapFile, '');
  const port = await freePort();
  const prometheusPort = config === 'B' || config === 'C' ? await freePort() : undefined;
  const env = {
    ...baseEnv({ port, databaseUrl, ...services, serviceName: `instructions-${config}` }),
    ...configEnv(config, prometheusPort),
    OTEL_BSP_SCHEDULE_DELAY: '600000',
    BENCH_HEAP_FILE: heapFile,
  };
  const server = await startServer({
    label: config,
    env,
    nodeArgs: [
      '--expose-gc',
      '--require',
      path.join(ROOT, 'bench', 'heap-probe.cjs'),
      ...configNodeArgs(config),
      // V8 writes /tmp/perf-<pid>.map, the names of its JIT code's addresses
      ...(FUNCTIONS > 0 ? ['--perf-basic-prof'] : []),
    ],
    prefix: [
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${path.join(dir, 'callgrind.%p')}`,
      '--quiet',
    ],
    startSeconds: 600,
  });
  const pid = server.child.pid!;
  try {
    const { headers } = await signIn(`instructions-${config}-${round}`);
    const url = `${server.base}/api/sessions/${await createSession(server.base, headers, 'Instructions')}`;
    // warm-up without instrumentation (valgrind runs the guest about 5× slower then, not 50×)
    const warm = await fixedCount(url, headers, WARMUP, CONNECTIONS);
    if (warm.errors > 0) throw new Error(`${config}: ${warm.errors} errors in the warm-up`);
    // Every count starts from a collected heap and ends with a full collection, counted: the
    // requests pay for all the garbage they made. Otherwise a major GC falls inside one
    // configuration's window and not another's, and moves its count by 10%.
    await probeHeap(server.child, heapFile, 300);
    callgrindControl(['--instr=on'], pid, env);
    callgrindControl(['--zero'], pid, env);
    const load = await fixedCount(url, headers, REQUESTS, CONNECTIONS);
    await probeHeap(server.child, heapFile, 300);
    callgrindControl(['--dump=load'], pid, env);
    await dumpTotal(dir, pid, server.base, 'load');
    const perfMap = `/tmp/perf-${pid}.map`;
    if (existsSync(perfMap)) renameSync(perfMap, path.join(dir, 'perf.map'));
    const run: RunRecord = { config, round, requests: load.requests, seconds: load.seconds, errors: load.errors };
    writeFileSync(path.join(dir, 'run.json'), JSON.stringify(run));
    return readCount(dir);
  } finally {
    await server.stop();
  }
}

/** A's CPU µs per request natively (no valgrind), at saturation, to turn instructions into µs. */
async function nativeA(services: { sink: string; gemini: string }, databaseUrl: string): Promise<number> {
  const port = await freePort();
  const env = { ...baseEnv({ port, databaseUrl, ...services, serviceName: 'instructions-A' }), ...configEnv('A') };
  const server = await startServer({ label: 'A (native)', env });
  try {
    const { headers } = await signIn('instructions-native');
    const url = `${server.base}/api/sessions/${await createSession(server.base, headers, 'Native')}`;
    await saturate(url, headers, NATIVE.seconds);
    const before = cpuMicros(server.child.pid!);
    const load = await fixedCount(url, headers, NATIVE.requests, 16);
    return (cpuMicros(server.child.pid!) - before) / load.requests;
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0)
    throw new Error('valgrind is not installed (Debian: apt-get install -y valgrind)');
  if (args['report-only'])
    return report(
      readdirSync(TMP, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(path.join(TMP, entry.name, 'run.json')))
        .map((entry) => readCount(path.join(TMP, entry.name))),
      JSON.parse(readFileSync(path.join(TMP, 'native.json'), 'utf8')) as number[],
    );
  const rounds = smoke ? 1 : Number(args.rounds);
  rmSync(TMP, { recursive: true, force: true });
  if (!args['no-build']) {
    log('building');
    await build();
  }
  const services = await startServices();
  const db = await database(TMP);
  const counts: Count[] = [];
  const nativeUs: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const shift = (round - 1) % CONFIGS.length;
      for (const config of [...CONFIGS.slice(shift), ...CONFIGS.slice(0, shift)]) {
        const count = await countOnce(config, round, services, db.url);
        log(
          `round ${round} ${config}: ${(count.perRequest / 1e6).toFixed(3)} M instructions/request (${count.loadSeconds.toFixed(0)} s), of which JIT compilation ${(count.compilePerRequest / 1e3).toFixed(0)} k, full GC ${(count.fullGcPerRequest / 1e3).toFixed(0)} k`,
        );
        counts.push(count);
      }
      nativeUs.push(await nativeA(services, db.url));
      writeFileSync(path.join(TMP, 'native.json'), JSON.stringify(nativeUs));
      log(`round ${round} A natively: ${nativeUs.at(-1)!.toFixed(0)} µs CPU/request`);
    }
  } finally {
    services.child.kill('SIGTERM');
    await db.stop();
  }
  report(counts, nativeUs);
}

/** Writes the report (and with --json the ratios), and prints it. */
function report(counts: Count[], nativeUs: number[]): void {
  const date = new Date().toISOString().slice(0, 10);
  const rounds = Math.max(...counts.map((count) => count.round));
  const markdown = render(counts, nativeUs, rounds, date);
  mkdirSync(args.out as string, { recursive: true });
  const file = path.join(args.out as string, `${smoke ? 'smoke-' : ''}instructions-${date}.md`);
  writeFileSync(file, markdown);
  if (args.json !== undefined) writeFileSync(args.json, JSON.stringify(summary(counts)));
  process.stdout.write(`${markdown}\n`);
  log(`wrote ${file}`);
}

/** A count without what a long-running process no longer does: optimising compilation. */
const steady = (count: Count) => count.perRequest - count.compilePerRequest;
/** …and without the full collections, whose number in a window of 1,000 requests is 1 or 2 by chance. */
const core = (count: Count) => steady(count) - count.fullGcPerRequest;

function summary(counts: Count[]): InstructionSummary {
  const a = new Map(counts.filter((count) => count.config === 'A').map((count) => [count.round, count]));
  const result: InstructionSummary = {};
  for (const count of counts) {
    const base = a.get(count.round)!;
    result[count.config] ??= { ratio: [], steady: [], core: [] };
    result[count.config]!.ratio.push(base.perRequest / count.perRequest);
    result[count.config]!.steady.push(steady(base) / steady(count));
    result[count.config]!.core.push(core(base) / core(count));
  }
  return result;
}

function render(counts: Count[], nativeUs: number[], rounds: number, date: string): string {
  const of = (config: ConfigName) => counts.filter((count) => count.config === config);
  // each configuration's run is paired with A's run of the same round
  const a = new Map(of('A').map((count) => [count.round, count]));
  const perUs = median(of('A').map(steady)) / median(nativeUs);
  const targets: Partial<Record<ConfigName, string>> = { B: '≥ 0.90', C: '≥ 0.95' };
  const k = (values: number[]) => spread(values.map((n) => n / 1e3));
  const rows = CONFIGS.map((config) => {
    const runs = of(config);
    const base = (count: Count) => a.get(count.round)!;
    const cells = [
      LABELS[config],
      spread(
        runs.map((count) => count.perRequest / 1e6),
        3,
      ),
      k(runs.map((count) => count.compilePerRequest)),
      k(runs.map((count) => count.fullGcPerRequest)),
      k(runs.map((count) => count.otherGcPerRequest)),
      spread(
        runs.map((count) => base(count).perRequest / count.perRequest),
        3,
      ),
      spread(
        runs.map((count) => steady(base(count)) / steady(count)),
        3,
      ),
      spread(
        runs.map((count) => core(base(count)) / core(count)),
        3,
      ),
      targets[config] ?? '',
      k(runs.map((count) => steady(count) - steady(base(count)))),
      spread(runs.map((count) => (steady(count) - steady(base(count))) / perUs)),
    ];
    return `| ${cells.join(' | ')} |`;
  });
  return [
    `# Instructions per request, ${date}`,
    '',
    `\`npm run bench:instructions -- ${smoke ? '--smoke' : `--rounds ${rounds}`}\` on ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}:`,
    `GET /api/sessions/:id, ${WARMUP} requests of warm-up, then ${REQUESTS} counted, ${CONNECTIONS} connections; every`,
    'instruction of the server process (all threads) under `valgrind --tool=callgrind`, from a collected heap to a',
    'full collection after the last request (counted). Median (min–max) over the rounds; ratios and differences',
    "against A of the same round. *Steady* leaves out V8's optimising compilers: code still being optimised after",
    'the warm-up (under valgrind the warm-up is short), work a long-running process has done once. *Without full GC*',
    'also leaves out the mark-compact collections, one or two per window by chance, each costing about as much as',
    "the rest of the window's GC.",
    `A natively: ${spread(nativeUs, 0)} µs CPU per request, about ${(perUs / 1e3).toFixed(2)} k instructions (steady) per µs.`,
    '',
    '| configuration | M instructions / request | k of them JIT compilation | k full GC | k other GC | A / X | A / X steady | A / X steady, without full GC | target (throughput) | added k / request, steady | ≈ added µs / request, steady |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    ...(FUNCTIONS > 0 ? breakdown(counts, perUs) : []),
  ].join('\n');
}

/** Medians over the rounds of each key's per-request instructions, for one configuration. */
function medians(counts: Count[], keyOf: (name: string) => string): Map<string, number> {
  const perRound = counts.map((count) => {
    const sums = new Map<string, number>();
    for (const [name, n] of count.functions ?? []) sums.set(keyOf(name), (sums.get(keyOf(name)) ?? 0) + n);
    return sums;
  });
  const keys = new Set(perRound.flatMap((sums) => [...sums.keys()]));
  return new Map([...keys].map((key) => [key, median(perRound.map((sums) => sums.get(key) ?? 0))]));
}

/** Where the added instructions go: by group of code, then the functions that add the most. */
function breakdown(counts: Count[], perUs: number): string[] {
  const traced: ConfigName[] = CONFIGS.filter((config) => config !== 'A');
  const of = (config: ConfigName) => counts.filter((count) => count.config === config);
  const table = (keyOf: (name: string) => string, limit: number, title: string): string[] => {
    const base = medians(of('A'), keyOf);
    const byConfig = new Map(traced.map((config) => [config, medians(of(config), keyOf)]));
    const keys = new Set([...base.keys(), ...[...byConfig.values()].flatMap((m) => [...m.keys()])]);
    const added = (config: ConfigName, key: string) => (byConfig.get(config)!.get(key) ?? 0) - (base.get(key) ?? 0);
    const rows = [...keys]
      .map((key) => ({ key, size: Math.max(...traced.map((config) => Math.abs(added(config, key)))) }))
      .filter((row) => row.size >= 500)
      .sort((x, y) => y.size - x.size)
      .slice(0, limit);
    return [
      title,
      '',
      `| ${keyOf === groupOfFunction ? 'group' : 'function'} | A | ${traced.map((config) => `${config} − A`).join(' | ')} |`,
      `|---|---:|${traced.map(() => '---:').join('|')}|`,
      ...rows.map(
        ({ key }) =>
          `| ${key.replaceAll('|', '\\|')} | ${((base.get(key) ?? 0) / 1e3).toFixed(1)} | ${traced
            .map((config) => (added(config, key) / 1e3).toFixed(1))
            .join(' | ')} |`,
      ),
      '',
    ];
  };
  return [
    '## Where the instructions go',
    '',
    `Self instructions per request (k), median of rounds; JIT code named through \`--perf-basic-prof\`,`,
    `native code by its symbol. About ${(perUs / 1e3).toFixed(2)} k instructions make a µs (A natively).`,
    '',
    ...table(groupOfFunction, 40, '### By group'),
    ...table((name) => name, FUNCTIONS, `### The ${FUNCTIONS} functions that differ most`),
  ];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
