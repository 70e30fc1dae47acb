import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

/** One series of an instant query: its labels and its [unix seconds, value] sample. */
export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromRule {
  name: string;
  type: 'alerting' | 'recording';
  query: string;
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  state?: 'inactive' | 'pending' | 'firing';
}

export interface PromRuleGroup {
  name: string;
  file: string;
  rules: PromRule[];
}

export interface PromExemplars {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

export interface PrometheusOptions {
  /** host:port of each process to scrape at /metrics. */
  scrapeTargets: string[];
  /** Scrape and rule evaluation interval (default 1 s: tests want data fast). */
  scrapeIntervalMs?: number;
  /** Rule files to load (absolute or relative to the working directory). */
  ruleFiles?: string[];
  /** The `job` label of the scraped targets (default `renovation-agent-backend`). */
  jobName?: string;
  /** Also scrape Prometheus itself, as job `prometheus`. */
  scrapeSelf?: boolean;
}

export interface PrometheusServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Instant query through /api/v1/query; rejects on a query error. */
  query(expr: string): Promise<PromSeries[]>;
  /** Polls `expr` until it returns at least one series; rejects after timeoutMs with the last answer. */
  waitForSeries(expr: string, timeoutMs?: number): Promise<PromSeries[]>;
  /** The loaded rule groups with their health and state (/api/v1/rules). */
  rules(): Promise<PromRuleGroup[]>;
  /** Exemplars of the series `expr` selects over the last `sinceS` seconds (/api/v1/query_exemplars). */
  exemplars(expr: string, sinceS?: number): Promise<PromExemplars[]>;
  stop(): Promise<void>;
}

/** True when `name` runs from PATH (the Debian `prometheus` package provides `prometheus` and `promtool`). */
export function hasBinary(name: string): boolean {
  return spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function api<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus ${url}: ${body.error ?? response.status}`);
  return body.data;
}

function configYaml(options: PrometheusOptions, self: string): string {
  const interval = `${options.scrapeIntervalMs ?? 1000}ms`;
  const scrapeConfigs: object[] = [
    { job_name: options.jobName ?? 'renovation-agent-backend', static_configs: [{ targets: options.scrapeTargets }] },
  ];
  if (options.scrapeSelf) scrapeConfigs.push({ job_name: 'prometheus', static_configs: [{ targets: [self] }] });
  return stringify({
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: (options.ruleFiles ?? []).map((file) => path.resolve(file)),
    scrape_configs: scrapeConfigs,
  });
}

async function waitUntilReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${stderr()}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await sleep(100);
  }
  throw new Error(`prometheus not ready within 30 s:\n${stderr()}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts the real `prometheus` binary on a free port with a generated config and a throw-away
 * TSDB in a temporary folder, and resolves once /-/ready answers.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rab-prometheus-'));
  // Another process can take the port between our probe and Prometheus' bind: try a few.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const self = `127.0.0.1:${port}`;
    const url = `http://${self}`;
    const configFile = path.join(dir, 'prometheus.yml');
    await writeFile(configFile, configYaml(options, self));
    const child = spawn(
      'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, `data-${attempt}`)}`,
        `--web.listen-address=${self}`,
        '--log.level=warn',
        // keeps the exemplars of OpenMetrics scrapes (and negotiates OpenMetrics)
        '--enable-feature=exemplar-storage',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    try {
      await waitUntilReady(url, child, () => stderr);
    } catch (error) {
      await stopProcess(child);
      if (attempt < 3 && /address already in use/.test(stderr)) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }

    const query = async (expr: string) => {
      const data = await api<{ resultType: string; result: PromSeries[] }>(
        `${url}/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      if (data.resultType !== 'vector')
        throw new Error(`expected an instant vector from ${expr}, got ${data.resultType}`);
      return data.result;
    };
    return {
      url,
      query,
      async waitForSeries(expr, timeoutMs = 15_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const result = await query(expr);
          if (result.length > 0) return result;
          if (Date.now() > deadline) throw new Error(`no series for ${expr} within ${timeoutMs} ms`);
          await sleep(200);
        }
      },
      async rules() {
        return (await api<{ groups: PromRuleGroup[] }>(`${url}/api/v1/rules`)).groups;
      },
      async exemplars(expr, sinceS = 600) {
        const now = Date.now() / 1000;
        return api<PromExemplars[]>(
          `${url}/api/v1/query_exemplars?query=${encodeURIComponent(expr)}&start=${now - sinceS}&end=${now + 60}`,
        );
      },
      async stop() {
        await stopProcess(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/** Values for the Grafana variables the dashboards use, as a test substitutes them. */
export const GRAFANA_TEST_VARIABLES: Readonly<Record<string, string>> = {
  job: '.*',
  __rate_interval: '5m',
  __interval: '1m',
  __range: '1h',
};

/** Replaces `$name` and `${name}` / `${name:format}` in a panel query; an unknown variable is an error. */
export function substituteGrafanaVariables(
  expr: string,
  values: Readonly<Record<string, string>> = GRAFANA_TEST_VARIABLES,
) {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (match, braced?: string, bare?: string) => {
    const value = values[(braced ?? bare)!];
    if (value === undefined) throw new Error(`no value for Grafana variable ${match} in ${expr}`);
    return value;
  });
}

export interface PanelQuery {
  panel: string;
  refId: string;
  /** The query with the dashboard's variables substituted. */
  expr: string;
}

interface GrafanaPanel {
  title: string;
  targets?: Array<{ expr?: string; refId: string }>;
  panels?: GrafanaPanel[];
}

/** Every panel query of a Grafana dashboard (rows included), ready to run. */
export function grafanaPanelQueries(
  dashboard: { panels: GrafanaPanel[] },
  values: Readonly<Record<string, string>> = GRAFANA_TEST_VARIABLES,
): PanelQuery[] {
  const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
  return panels.flatMap((panel) =>
    (panel.targets ?? [])
      .filter((target) => target.expr !== undefined)
      .map((target) => ({
        panel: panel.title,
        refId: target.refId,
        expr: substituteGrafanaVariables(target.expr!, values),
      })),
  );
}
