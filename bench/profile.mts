/**
 * npm run bench:profile — where each microsecond of a traced request goes.
 *
 * Starts the real server (backend/dist/server.js) under `node --cpu-prof` once per mode and
 * round, interleaved, drives GET /api/sessions/:id as fast as it goes, and sums the
 * profile's self time per code group (an OpenTelemetry package, express, pg, our folders,
 * Node's http internals, GC) over the load phase only, per request:
 *   A  tracing off (OTEL_SDK_DISABLED=true)
 *   U  ours, nothing sampled (ratio 0; metrics on)
 *   M  ours, nothing sampled, metrics off (OTEL_METRICS_EXPORTER=none)
 *   S  ours, everything sampled, exporting to a local OTLP sink
 *   N  ours, everything sampled, export off (OTEL_TRACES_EXPORTER=none)
 * The main thread only (what the profiler samples); the difference to A per group is what
 * tracing adds there. Writes bench/results/profile-<date>.md.
 *
 * `--functions N` also writes profile-<date>-functions.md: per mode, the N functions of
 * telemetry code (OpenTelemetry packages, our telemetry/ files) with the most self time per
 * request (a native binding they call charged to them): which record or call costs what,
 * where the group rows only say which package.
 *
 *   npm run bench:profile                   2 rounds of 8 s per mode
 *   npm run bench:profile -- --rounds 1 --seconds 5 --only U
 *   npm run bench:profile -- --only U --functions 30
 *
 * `--tree` writes profile-<date>-tree.md: the same time as a call tree from where telemetry
 * code was entered (an instrumentation's wrapper, a pool listener, a tracer call), so a
 * function the flat list names (`hashAttributes`) shows whose records it serves.
 *   npm run bench:profile -- --only U --tree
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { selfTimeByFunction, selfTimeByGroup, telemetryPaths } from './lib/cpu-profile.mts';
import { saturate } from './lib/load.mts';
import { cpuMicros, freePort, log } from './lib/process.mts';
import { baseEnv, build, createSession, ROOT, signIn, startServer, startServices } from './lib/server.mts';
import { median } from './lib/stats.mts';

const TMP = path.join(ROOT, 'bench', '.tmp', 'profile');

const MODES = {
  A: { label: 'off', env: { OTEL_SDK_DISABLED: 'true' } },
  U: {
    label: 'nothing sampled',
    env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' },
  },
  M: {
    label: 'nothing sampled, metrics off',
    env: {
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
      OTEL_METRICS_EXPORTER: 'none',
    },
  },
  S: { label: 'all sampled', env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' } },
  N: {
    label: 'all sampled, export off',
    env: {
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '1',
      OTEL_TRACES_EXPORTER: 'none',
    },
  },
} as const;
type Mode = keyof typeof MODES;

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '8' },
    only: { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    'no-build': { type: 'boolean', default: false },
    functions: { type: 'string', default: '0' },
    tree: { type: 'boolean', default: false },
  },
});
const only = args.only as string[];
const modes = (Object.keys(MODES) as Mode[]).filter((mode) => only.length === 0 || mode === 'A' || only.includes(mode));

/** The profiler's clock (V8 TimeTicks) and hrtime are both CLOCK_MONOTONIC, in µs here. */
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

async function profileOnce(mode: Mode, round: number, sink: string, gemini: string, databaseUrl: string) {
  const port = await freePort();
  const dir = path.join(TMP, `${mode}-${round}`);
  mkdirSync(dir, { recursive: true });
  const env = {
    ...baseEnv({ port, databaseUrl, sink, gemini, serviceName: `profile-${mode}` }),
    ...MODES[mode].env,
  };
  const nodeArgs = ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '500'];
  const server = await startServer({ label: mode, env, nodeArgs });
  const { child } = server;
  try {
    const { headers } = await signIn(`profile-${mode}-${round}`);
    const url = `${server.base}/api/sessions/${await createSession(server.base, headers, 'Profile')}`;
    await saturate(url, headers, 3);
    const from = nowUs();
    const cpuBefore = cpuMicros(child.pid!);
    const load = await saturate(url, headers, Number(args.seconds));
    const cpuPerRequest = (cpuMicros(child.pid!) - cpuBefore) / load.requests;
    const to = nowUs();
    await server.stop();
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no profile for ${mode}`);
    const totals = selfTimeByGroup(path.join(dir, file), from, to);
    totals.delete('idle');
    // The profiler's samples measure wall time on the main thread: on a shared machine a
    // descheduled thread inflates whatever it was running. Their shares are sound, so they
    // are scaled to the process's CPU time per request as /proc counts it.
    const sampled = [...totals.values()].reduce((sum, us) => sum + us, 0);
    const perRequest = new Map([...totals].map(([group, us]) => [group, (us / sampled) * cpuPerRequest]));
    const functions = new Map<string, number>();
    if (Number(args.functions) > 0)
      for (const { group, fn, us } of selfTimeByFunction(path.join(dir, file), from, to, isTelemetry))
        functions.set(`${group} · ${fn}`, (us / sampled) * cpuPerRequest);
    const paths = new Map<string, number>();
    if (args.tree)
      for (const [key, us] of telemetryPaths(path.join(dir, file), from, to, isTelemetry))
        paths.set(key, (us / sampled) * cpuPerRequest);
    return { requests: load.requests, requestsPerSecond: load.requestsPerSecond, perRequest, functions, paths };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const rounds = Number(args.rounds);
  rmSync(TMP, { recursive: true, force: true });
  if (!args['no-build']) {
    log('building');
    await build();
  }
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('set DATABASE_URL (a PostgreSQL the migrations may run on)');
  const services = await startServices();
  const { sink, gemini } = services;
  const runs = new Map<Mode, Array<Awaited<ReturnType<typeof profileOnce>>>>(modes.map((mode) => [mode, []]));
  try {
    for (let round = 1; round <= rounds; round++) {
      // each round starts one mode later: no mode always runs first (as in bench/run.mts)
      const shift = (round - 1) % modes.length;
      for (const mode of [...modes.slice(shift), ...modes.slice(0, shift)]) {
        const run = await profileOnce(mode, round, sink, gemini, databaseUrl);
        const cpu = [...run.perRequest.values()].reduce((sum, us) => sum + us, 0);
        log(`round ${round} ${mode}: ${run.requestsPerSecond.toFixed(0)} req/s, ${cpu.toFixed(0)} µs CPU/req`);
        runs.get(mode)!.push(run);
      }
    }
  } finally {
    services.child.kill('SIGTERM');
  }
  const markdown = renderTable(runs);
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(args.out as string, { recursive: true });
  writeFileSync(path.join(args.out as string, `profile-${date}.md`), markdown);
  writeFileSync(path.join(args.out as string, `profile-${date}-full.md`), renderFullTable(runs));
  process.stdout.write(`${markdown}\n`);
  if (Number(args.functions) > 0) {
    const functions = renderFunctions(runs, Number(args.functions));
    writeFileSync(path.join(args.out as string, `profile-${date}-functions.md`), functions);
    process.stdout.write(`\n${functions}\n`);
  }
  if (args.tree) {
    const tree = renderTree(runs);
    writeFileSync(path.join(args.out as string, `profile-${date}-tree.md`), tree);
    process.stdout.write(`\n${tree}\n`);
  }
}

/** Median µs/request per group per mode, with the difference to A; small groups folded into "rest". */
export function renderFullTable(
  runs: Map<Mode, Array<{ perRequest: Map<string, number>; requestsPerSecond: number }>>,
): string {
  const groups = new Set<string>();
  for (const list of runs.values())
    for (const run of list) for (const group of run.perRequest.keys()) groups.add(group);
  groups.delete('idle');
  const med = (mode: Mode, group: string) =>
    median((runs.get(mode) ?? []).map((run) => run.perRequest.get(group) ?? 0));
  const shown = [...groups].filter((group) =>
    [...runs.keys()].some((mode) => Math.abs(med(mode, group) - med('A', group)) >= 1 || med(mode, group) >= 5),
  );
  shown.sort(
    (a, b) => Math.max(...[...runs.keys()].map((m) => med(m, b))) - Math.max(...[...runs.keys()].map((m) => med(m, a))),
  );
  const modesShown = [...runs.keys()];
  const cell = (mode: Mode, group: string) => {
    const value = med(mode, group);
    if (mode === 'A') return value.toFixed(1);
    const delta = value - med('A', group);
    return `${value.toFixed(1)} (${delta >= 0 ? '+' : ''}${delta.toFixed(1)})`;
  };
  const total = (mode: Mode) =>
    median((runs.get(mode) ?? []).map((run) => [...run.perRequest.values()].reduce((s, us) => s + us, 0)));
  const rest = (mode: Mode) => total(mode) - shown.reduce((sum, group) => sum + med(mode, group), 0);
  const lines = [
    `# Every code group, per request (${new Date().toISOString().slice(0, 10)})`,
    '',
    'Self time per request (µs) from `node --cpu-prof` (500 µs sampling) over the load phase of',
    "`GET /api/sessions/:id`: each group's share of the samples times the process CPU per request",
    '(/proc), median of rounds; in brackets the difference to A. Command: `npm run bench:profile`.',
    '',
    `| group | ${modesShown.map((mode) => `${mode} · ${MODES[mode].label}`).join(' | ')} |`,
    `|---|${modesShown.map(() => '---:').join('|')}|`,
    ...shown.map((group) => `| ${group} | ${modesShown.map((mode) => cell(mode, group)).join(' | ')} |`),
    `| rest | ${modesShown.map((mode) => rest(mode).toFixed(1)).join(' | ')} |`,
    `| **CPU per request** | ${modesShown.map((mode) => `**${total(mode).toFixed(0)}**${mode === 'A' ? '' : ` (+${(total(mode) - total('A')).toFixed(0)})`}`).join(' | ')} |`,
    `| req/s (profiler on) | ${modesShown.map((mode) => median((runs.get(mode) ?? []).map((run) => run.requestsPerSecond)).toFixed(0)).join(' | ')} |`,
  ];
  return lines.join('\n');
}

/** Per mode, the telemetry functions with the most self time per request (median of rounds; 0 in a round without it). */
export function renderFunctions(runs: Map<Mode, Array<{ functions: Map<string, number> }>>, top: number): string {
  const lines = [
    `# Telemetry code by function, per request (${new Date().toISOString().slice(0, 10)})`,
    '',
    'Self time per request (µs) of the functions of OpenTelemetry packages and of our telemetry/ files,',
    "V8's builtins (sort, JSON.stringify, Map operations) count as their caller's, and so here does a native binding's;",
    'scaled as the group rows are; median of rounds. Command: `npm run bench:profile -- --functions N`.',
  ];
  for (const [mode, list] of runs) {
    if (mode === 'A') continue;
    const names = new Set(list.flatMap((run) => [...run.functions.keys()]));
    const rows = [...names].map((name) => ({ name, us: median(list.map((run) => run.functions.get(name) ?? 0)) }));
    rows.sort((a, b) => b.us - a.us);
    const all = median(list.map((run) => [...run.functions.values()].reduce((sum, us) => sum + us, 0)));
    lines.push(
      '',
      `## ${mode} · ${MODES[mode].label}: ${all.toFixed(1)} µs of telemetry code`,
      '',
      '| function (group · name file:line) | µs/req |',
      '|---|---:|',
      ...rows.slice(0, top).map(({ name, us }) => `| ${name.replaceAll('|', '\\|')} | ${us.toFixed(2)} |`),
    );
  }
  return lines.join('\n');
}

/** Per mode, telemetry time as a call tree from where it was entered (mean of rounds; branches under 0.3 µs left out). */
export function renderTree(runs: Map<Mode, Array<{ paths: Map<string, number> }>>): string {
  interface Branch {
    us: number;
    children: Map<string, Branch>;
  }
  const lines = [
    `# Telemetry code by call path, per request (${new Date().toISOString().slice(0, 10)})`,
    '',
    'µs per request under each frame of telemetry code, from where the telemetry code was entered',
    '(a wrapper, a listener, a tracer call) down, each frame with what it calls; scaled as the group',
    'rows are; mean of rounds. Command: `npm run bench:profile -- --tree`.',
  ];
  for (const [mode, list] of runs) {
    if (mode === 'A') continue;
    const root: Branch = { us: 0, children: new Map() };
    for (const run of list)
      for (const [key, us] of run.paths) {
        let branch = root;
        branch.us += us / list.length;
        for (const frame of key.split('\n')) {
          let child = branch.children.get(frame);
          if (child === undefined) {
            child = { us: 0, children: new Map() };
            branch.children.set(frame, child);
          }
          child.us += us / list.length;
          branch = child;
        }
      }
    lines.push('', `## ${mode} · ${MODES[mode].label}: ${root.us.toFixed(1)} µs`, '', '```');
    const walk = (branch: Branch, depth: number) => {
      for (const [frame, child] of [...branch.children].sort((a, b) => b[1].us - a[1].us)) {
        if (child.us < 0.3) continue;
        lines.push(`${child.us.toFixed(1).padStart(6)}  ${'  '.repeat(depth)}${frame}`);
        walk(child, depth + 1);
      }
    };
    walk(root, 0);
    lines.push('```');
  }
  return lines.join('\n');
}

const isTelemetry = (group: string) => group.startsWith('@opentelemetry/') || group.startsWith('app:telemetry');

/**
 * The breakdown: every OpenTelemetry package and every file of our telemetry code (the code
 * tracing and metrics add, absent or nearly so in A), then GC, then the rest of the request's
 * work (app, Express, pg, Node) as one row: on a shared machine that row moves by tens of µs
 * from run to run, while the telemetry rows are what the modes really differ by.
 */
export function renderTable(
  runs: Map<Mode, Array<{ perRequest: Map<string, number>; requestsPerSecond: number }>>,
): string {
  const modes = [...runs.keys()];
  const med = (mode: Mode, pick: (perRequest: Map<string, number>) => number) =>
    median((runs.get(mode) ?? []).map((run) => pick(run.perRequest)));
  const groups = new Set<string>();
  for (const list of runs.values())
    for (const run of list) for (const group of run.perRequest.keys()) if (isTelemetry(group)) groups.add(group);
  const of = (group: string) => (perRequest: Map<string, number>) => perRequest.get(group) ?? 0;
  const telemetry = (perRequest: Map<string, number>) =>
    [...perRequest].filter(([group]) => isTelemetry(group)).reduce((sum, [, us]) => sum + us, 0);
  const total = (perRequest: Map<string, number>) => [...perRequest.values()].reduce((sum, us) => sum + us, 0);
  const rest = (perRequest: Map<string, number>) =>
    total(perRequest) - telemetry(perRequest) - (perRequest.get('GC') ?? 0);
  const shown = [...groups].filter((group) => modes.some((mode) => med(mode, of(group)) >= 0.5));
  shown.sort((a, b) => Math.max(...modes.map((m) => med(m, of(b)))) - Math.max(...modes.map((m) => med(m, of(a)))));
  const row = (name: string, pick: (perRequest: Map<string, number>) => number, bold = false) => {
    const cells = modes.map((mode) => {
      const value = med(mode, pick);
      const text =
        mode === 'A'
          ? value.toFixed(1)
          : `${value.toFixed(1)} (${value - med('A', pick) >= 0 ? '+' : ''}${(value - med('A', pick)).toFixed(1)})`;
      return bold ? `**${text}**` : text;
    });
    return `| ${bold ? `**${name}**` : name} | ${cells.join(' | ')} |`;
  };
  const date = new Date().toISOString().slice(0, 10);
  return [
    `# Where a request's microseconds go (${date})`,
    '',
    'CPU per request (µs) by code group, `GET /api/sessions/:id` at saturation: self time from `node --cpu-prof`',
    "(500 µs sampling) over the load phase, each group's share of the samples times the process's CPU per",
    'request (/proc); median of rounds; in brackets the difference to A. The profiler itself slows every',
    'figure (compare columns, not runs). Command: `npm run bench:profile` (every group: `profile-<date>-full.md`).',
    '',
    `| group | ${modes.map((mode) => `${mode} · ${MODES[mode].label}`).join(' | ')} |`,
    `|---|${modes.map(() => '---:').join('|')}|`,
    ...shown.map((group) => row(group, of(group))),
    row('tracing and metrics code, all of the above', telemetry, true),
    row('GC', of('GC')),
    row('everything else (app, Express, pg, Node)', rest),
    row('CPU per request', total, true),
    `| req/s (profiler on) | ${modes.map((mode) => median((runs.get(mode) ?? []).map((run) => run.requestsPerSecond)).toFixed(0)).join(' | ')} |`,
  ].join('\n');
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
