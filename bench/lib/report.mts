import { median, spread } from './stats.mts';
import type { LogLineCost } from './log-line.mts';

export type ConfigName = 'A' | 'B' | 'C' | 'D' | 'E';

/**
 * Per configuration, its instruction-count ratios to A of the same round: in all, without JIT
 * compilation (steady), and also without full garbage collections (core).
 */
export interface InstructionSummary {
  [config: string]: { ratio: number[]; steady: number[]; core: number[] };
}

/** The instruction count's report (bench/instructions.mts) and its ratios. */
export interface Instructions {
  markdown: string;
  summary: InstructionSummary;
}

export interface RunResult {
  config: ConfigName;
  round: number;
  requestsPerSecond: number;
  /** Server CPU time (user + system) per request during the saturated phase. */
  cpuPerRequestUs: number;
  errors: number;
  p50Us: number;
  p99Us: number;
  peakRssMiB: number;
  heapBeforeMiB: number;
  heapAfterMiB: number;
  requestsBetweenHeaps: number;
  spansPerRequest: number;
  /** Saturated phase: how many traces held how many spans (`{ "3": 12254 }`). */
  spansPerTrace: Record<string, number>;
  chatMessagesPerSecond: number;
  chatP50Ms: number;
  chatP99Ms: number;
  spansPerChatMessage: number;
  /** Series on the Prometheus endpoint after the run (B, C): all, and those of http.server.request.duration. */
  metricSeries?: number;
  httpDurationSeries?: number;
}

export const LABELS: Record<ConfigName, string> = {
  A: 'A · tracing off',
  B: 'B · ours, 100%',
  C: 'C · ours, 10%',
  D: 'D · auto-instrumentations, 100%',
  E: 'E · ours, 10%, metrics off',
};

export interface ChartData {
  configs: Array<{ name: ConfigName; label: string; ratio: number[]; p99Us: number[]; addedP50Us: number[] }>;
}

/** Per round, the configuration's figure against A's in the same round: drift cancels out. */
function againstA(
  results: RunResult[],
  config: ConfigName,
  figure: (run: RunResult, a: RunResult) => number,
): number[] {
  return results
    .filter((run) => run.config === config)
    .map((run) => {
      const a = results.find((other) => other.config === 'A' && other.round === run.round);
      return a ? figure(run, a) : Number.NaN;
    });
}

const of = (results: RunResult[], config: ConfigName, figure: (run: RunResult) => number) =>
  results.filter((run) => run.config === config).map(figure);

export function renderReport({
  results,
  logLine,
  machine,
  date,
  rounds,
  smoke,
  durations,
  breakdown,
  instructions,
}: {
  results: RunResult[];
  logLine: LogLineCost;
  machine: string;
  date: string;
  rounds: number;
  smoke: boolean;
  durations: { saturate: number; fixed: number; chat: number; rate: number; chatClients: number };
  /** The profile breakdown table (bench/profile.mts), when it ran. */
  breakdown?: string;
  /** The instruction count (bench/instructions.mts), when it ran. */
  instructions?: Instructions;
}): { markdown: string; chart: ChartData } {
  const configs = (['A', 'B', 'C', 'D', 'E'] as ConfigName[]).filter((c) => results.some((run) => run.config === c));
  const ratio = (c: ConfigName) => againstA(results, c, (run, a) => run.requestsPerSecond / a.requestsPerSecond);
  const addedCpuUs = (c: ConfigName) => againstA(results, c, (run, a) => run.cpuPerRequestUs - a.cpuPerRequestUs);
  const addedP50 = (c: ConfigName) => againstA(results, c, (run, a) => run.p50Us - a.p50Us);
  const rssVsA = (c: ConfigName) => againstA(results, c, (run, a) => run.peakRssMiB - a.peakRssMiB);
  const heapGrowth = (c: ConfigName) => of(results, c, (run) => run.heapAfterMiB - run.heapBeforeMiB);

  const rows = configs.map((c) =>
    [
      LABELS[c],
      spread(of(results, c, (r) => r.requestsPerSecond)),
      c === 'A' ? '1' : spread(ratio(c), 2),
      spread(of(results, c, (r) => r.cpuPerRequestUs)),
      c === 'A' ? '0' : spread(addedCpuUs(c)),
      spread(of(results, c, (r) => r.p50Us)),
      spread(of(results, c, (r) => r.p99Us)),
      c === 'A' ? '0' : spread(addedP50(c)),
      spread(of(results, c, (r) => r.peakRssMiB)),
      c === 'A' ? '0' : spread(rssVsA(c)),
      spread(heapGrowth(c), 1),
      spread(
        of(results, c, (r) => r.spansPerRequest),
        2,
      ),
    ].join(' | '),
  );
  const chatRows = configs.map((c) =>
    [
      LABELS[c],
      spread(
        of(results, c, (r) => r.chatMessagesPerSecond),
        1,
      ),
      spread(
        of(results, c, (r) => r.chatP50Ms),
        1,
      ),
      spread(
        of(results, c, (r) => r.chatP99Ms),
        1,
      ),
      spread(
        of(results, c, (r) => r.spansPerChatMessage),
        1,
      ),
    ].join(' | '),
  );

  const spreadOverTraces = (c: ConfigName) => {
    const merged: Record<string, number> = {};
    for (const run of results.filter((r) => r.config === c)) {
      for (const [spans, traces] of Object.entries(run.spansPerTrace)) merged[spans] = (merged[spans] ?? 0) + traces;
    }
    return merged;
  };
  const describeSpread = (merged: Record<string, number>) =>
    Object.entries(merged)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([spans, traces]) => `${spans} spans × ${traces.toLocaleString('en')}`)
      .join(', ') || 'no traces';
  const traceRows = (['B', 'C', 'D'] as ConfigName[])
    .filter((c) => configs.includes(c))
    .map((c) => `| ${LABELS[c]} | ${describeSpread(spreadOverTraces(c))} |`);

  const m = (values: number[]) => median(values);
  // what metrics add: C (10%, metrics on) against E (10%, metrics off) of the same round
  const metricsCpuUs = of(results, 'C', (run) => {
    const e = results.find((other) => other.config === 'E' && other.round === run.round);
    return e ? run.cpuPerRequestUs - e.cpuPerRequestUs : Number.NaN;
  });
  const seriesOf = (c: ConfigName) => spread(of(results, c, (r) => r.metricSeries ?? Number.NaN));
  const httpSeriesOf = (c: ConfigName) => spread(of(results, c, (r) => r.httpDurationSeries ?? Number.NaN));
  const minRequests = Math.min(...of(results, 'B', (r) => r.requestsBetweenHeaps));
  const targets: Array<[string, string, boolean]> = [
    ['B/A throughput ≥ 0.90', m(ratio('B')).toFixed(2), m(ratio('B')) >= 0.9],
    ['C/A throughput ≥ 0.95', m(ratio('C')).toFixed(2), m(ratio('C')) >= 0.95],
    [
      'added p50 latency at 200 req/s < 100 µs (B, C)',
      `${m(addedP50('B')).toFixed(0)} µs, ${m(addedP50('C')).toFixed(0)} µs`,
      m(addedP50('B')) < 100 && m(addedP50('C')) < 100,
    ],
    [
      'metrics add < 10 µs server CPU per request (C − E, same round)',
      `${m(metricsCpuUs).toFixed(0)} µs`,
      m(metricsCpuUs) < 10,
    ],
    [
      'peak RSS under load within 50 MiB of A (B)',
      `${m(rssVsA('B')) >= 0 ? '+' : ''}${m(rssVsA('B')).toFixed(0)} MiB`,
      m(rssVsA('B')) < 50,
    ],
    [
      `no heap growth after GC beyond 10 MB over ≥10,000 requests (B: ${minRequests.toLocaleString('en')} requests)`,
      `${m(heapGrowth('B')).toFixed(1)} MiB`,
      m(heapGrowth('B')) < 10 && minRequests >= 10_000,
    ],
    [
      'every request of B and C in a trace of its own spans (one bucket each)',
      `${Object.keys(spreadOverTraces('B')).length} and ${Object.keys(spreadOverTraces('C')).length} bucket(s)`,
      Object.keys(spreadOverTraces('B')).length === 1 && Object.keys(spreadOverTraces('C')).length <= 1,
    ],
    // the same two ratios counted in instructions, which the machine's load does not move
    ...(['B', 'C'] as const).flatMap((config): Array<[string, string, boolean]> => {
      const steady = instructions?.summary[config]?.steady;
      if (steady === undefined) return [];
      const goal = config === 'B' ? 0.9 : 0.95;
      return [
        [
          `${config}/A by instructions executed ≥ ${goal.toFixed(2)} (callgrind, steady)`,
          spread(steady, 3),
          median(steady) >= goal,
        ],
      ];
    }),
    // only when D ran (`--only` may leave it out)
    ...(configs.includes('D')
      ? [
          [
            'B clearly ahead of D (median B/A above every D/A)',
            `${m(ratio('B')).toFixed(2)} vs ≤ ${Math.max(...ratio('D')).toFixed(2)}`,
            m(ratio('B')) > Math.max(...ratio('D')),
          ] as [string, string, boolean],
        ]
      : []),
  ];

  const log = (values: number[]) => `${(median(values) / 1000).toFixed(2)} µs`;
  const errors = results.reduce((sum, run) => sum + run.errors, 0);
  const markdown = `# Tracing overhead, ${date}${smoke ? ' (smoke run: timings mean nothing)' : ''}

Machine: ${machine}. ${rounds} interleaved round(s) of ${configs.join(' ')}; each cell is the median (min–max) over rounds.
Ratios and "added" figures compare each run with A of the same round. Reproduce: \`npm run bench\`.

## GET /api/sessions/:id (JWT, two SQL queries)

Throughput: autocannon, 16 connections, ${durations.saturate} s. Latency: ${durations.rate} req/s for ${durations.fixed} s, each request timed.
Server CPU is the server process's user + system time during the saturated phase divided by its requests (from /proc):
what tracing costs per request, whatever PostgreSQL and the load generator take from the same 2 cores.

| configuration | req/s | vs A | server CPU µs/req | added CPU µs/req | p50 µs | p99 µs | added p50 µs | peak RSS MiB | RSS vs A MiB | heap growth after GC MiB | spans/req |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.map((row) => `| ${row} |`).join('\n')}

Spans per trace in the saturated phase, all rounds: every request makes the same work, so every
trace must hold the same number of spans. A second bucket means spans landed in another request's trace.

| configuration | traces by spans held |
|---|---|
${traceRows.join('\n')}

## Metrics

What the metrics add per request: C (10%, metrics on) minus E (10%, metrics off, \`OTEL_METRICS_EXPORTER=none\`),
server CPU of the same round: **${spread(metricsCpuUs)} µs**. B and C serve them on a Prometheus endpoint
(the record path is the same as with OTLP); after each run it held ${seriesOf('C')} series in C and ${seriesOf('B')} in B,
of which \`http_server_request_duration\` (count lines, one per method × route × status): ${httpSeriesOf('C')} in C.

## Chat message round trip (Socket.io → agent → 2 model calls to the Gemini stand-in, 1 tool, 5 SQL)

${durations.chatClients} clients sending one message after another for ${durations.chat} s.

| configuration | messages/s | p50 ms | p99 ms | spans/message |
|---|---:|---:|---:|---:|
${chatRows.map((row) => `| ${row} |`).join('\n')}

## One log line (pino, JSON, synchronous write)

| case | median |
|---|---:|
| no active span | ${log(logLine.noSpanNs)} |
| active span (adds trace_id, span_id, trace_flags, request_id) | ${log(logLine.activeSpanNs)} |

${breakdown !== undefined ? `## Where the microseconds go (CPU profile)\n\n${breakdown.split('\n').slice(2).join('\n')}\n\n` : ''}${
  instructions !== undefined
    ? `## Instructions per request (callgrind)\n\n${instructions.markdown
        .split('\n')
        .slice(2)
        .join('\n')
        .replaceAll(/^## /gm, '### ')
        .replaceAll(/^### (By group|The \d+ functions)/gm, '#### $1')}\n\n`
    : ''
}## Targets

| target | measured | |
|---|---:|:---:|
${targets.map(([name, value, ok]) => `| ${name} | ${value} | ${smoke ? '–' : ok ? '✅' : '❌'} |`).join('\n')}
${errors > 0 ? `\n⚠️ ${errors} failed requests or chat replies during the runs.\n` : ''}
![throughput and p99 per configuration](CHART)
`;
  return {
    markdown,
    chart: {
      configs: configs.map((c) => ({
        name: c,
        label: LABELS[c],
        ratio: c === 'A' ? of(results, c, () => 1) : ratio(c),
        p99Us: of(results, c, (r) => r.p99Us),
        addedP50Us: c === 'A' ? [0] : addedP50(c),
      })),
    },
  };
}
