import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { OTEL_ATTRIBUTES, OTEL_METRIC_NAMES, PROMETHEUS_LABELS, PROMETHEUS_SERIES } from '../../observability/metrics';
import { grafanaPanelQueries, hasBinary, type PrometheusServer, startPrometheus } from '../testing/prometheus';

const ROOT = path.resolve(__dirname, '../..');
const OBS = path.join(ROOT, 'observability');
const ALERTS = path.join(OBS, 'prometheus/alerts.yml');
const ALERT_TESTS = path.join(OBS, 'prometheus/alerts.test.yml');

const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(OBS, file), 'utf8')) as T;
const readYaml = <T>(file: string): T => parse(readFileSync(file, 'utf8')) as T;

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface GrafanaPanel {
  title: string;
  type: string;
  targets?: Array<{ expr?: string; refId: string }>;
}
interface DatadogWidget {
  definition: { title?: string; type: string; widgets?: DatadogWidget[]; requests?: Array<{ q: string }> };
}
interface DatadogMonitor {
  name: string;
  type: string;
  query: string;
  message: string;
  tags: string[];
  options: { thresholds: { critical: number } };
}

const alertRules = () =>
  readYaml<{ groups: Array<{ rules: AlertRule[] }> }>(ALERTS).groups.flatMap((group) => group.rules);
const dashboard = () => readJson<{ panels: GrafanaPanel[] }>('grafana/renovation-agent.json');
const datadogWidgets = () =>
  readJson<{ widgets: DatadogWidget[] }>('datadog/dashboard.json').widgets.flatMap((widget) => [
    widget,
    ...(widget.definition.widgets ?? []),
  ]);
const datadogMonitors = () => readJson<DatadogMonitor[]>('datadog/monitors.json');

const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or']);
const NOT_METRICS_TOO = new Set(['unless', 'offset', 'inf', 'nan']);

/** The metric names and label names a PromQL expression reads (strings, ranges and functions left out). */
function promqlNames(expr: string): { metrics: string[]; labels: string[] } {
  const labels: string[] = [];
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  rest = rest.replace(/\{([^}]*)\}/g, (_, body: string) => {
    for (const match of body.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) labels.push(match[1]!);
    return ' ';
  });
  rest = rest.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, body: string) => {
    labels.push(
      ...body
        .split(',')
        .map((label) => label.trim())
        .filter(Boolean),
    );
    return ' ';
  });
  rest = rest.replace(/\[[^\]]*\]/g, ' ').replace(/\boffset\s+\w+/g, ' ');
  const metrics: string[] = [];
  for (const match of rest.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const word = match[0];
    const before = rest[match.index - 1] ?? ' ';
    const after = rest.slice(match.index + word.length).trimStart();
    if (/[\w.]/.test(before) || after.startsWith('(')) continue;
    if (NOT_METRICS.has(word) || NOT_METRICS_TOO.has(word.toLowerCase())) continue;
    metrics.push(word);
  }
  return { metrics, labels };
}

/** The metric names and tag keys a Datadog metric query reads (`agg:metric{tags} by {tags}`). */
function datadogNames(query: string): { metrics: string[]; tags: string[] } {
  const metrics = [...query.matchAll(/\b(?:avg|sum|min|max|count|p\d{1,2}):([a-zA-Z_][\w.]*)\{/g)].map((m) => m[1]!);
  const tags = [...query.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
    m[1]!
      .split(',')
      .map((tag) => tag.trim().split(':')[0]!)
      .filter((tag) => tag !== '' && tag !== '*' && !tag.startsWith('$')),
  );
  return { metrics, tags };
}

/** Panel titles a runbook sends the reader to: `panel "Title"`. */
const panelsNamedIn = (text: string) => [...text.matchAll(/panel "([^"]+)"/g)].map((m) => m[1]!);

/** Datadog's unified service tags (from service.name, deployment.environment.name, host.name) and the attributes. */
const DATADOG_TAGS = new Set(['service', 'env', 'host', ...OTEL_ATTRIBUTES]);

describe('observability as code: names', () => {
  it('when the name extractors read an expression, then they find its metrics and labels and nothing else', () => {
    expect(
      promqlNames(
        'histogram_quantile(0.95, sum by (le, http_route) (rate(foo_bucket{job=~"$job",a!="x{y}"}[5m]))) > 3 or bar unless baz offset 5m',
      ),
    ).toEqual({ metrics: ['foo_bucket', 'bar', 'baz'], labels: ['job', 'a', 'le', 'http_route'] });
    expect(
      datadogNames('sum(last_5m):count:a.b{service:x,error.type:*} by {c.d}.as_count() / p95:e.f{$service}'),
    ).toEqual({ metrics: ['a.b', 'e.f'], tags: ['service', 'error.type', 'c.d'] });
  });

  it('when the dashboard, the alerts and the Datadog JSON name a metric or label, then the backend emits it', () => {
    const exprs = [
      ...grafanaPanelQueries(dashboard()).map(({ panel, expr }) => ({ where: `grafana "${panel}"`, expr })),
      ...alertRules().map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })),
    ];
    const unknown: string[] = [];
    for (const { where, expr } of exprs) {
      const { metrics, labels } = promqlNames(expr);
      expect(metrics.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of metrics) if (!PROMETHEUS_SERIES.includes(name)) unknown.push(`${where}: metric ${name}`);
      for (const label of labels) if (!PROMETHEUS_LABELS.includes(label)) unknown.push(`${where}: label ${label}`);
    }
    const queries = [
      ...datadogWidgets().flatMap((widget) =>
        (widget.definition.requests ?? []).map((request) => ({
          where: `datadog "${widget.definition.title}"`,
          q: request.q,
        })),
      ),
      ...datadogMonitors().map((monitor) => ({ where: `monitor ${monitor.name}`, q: monitor.query })),
    ];
    expect(queries.length).toBeGreaterThan(20);
    for (const { where, q } of queries) {
      const { metrics, tags } = datadogNames(q);
      expect(metrics.length, `${where}: ${q}`).toBeGreaterThan(0);
      for (const name of metrics) if (!OTEL_METRIC_NAMES.includes(name)) unknown.push(`${where}: metric ${name}`);
      for (const tag of tags) if (!DATADOG_TAGS.has(tag)) unknown.push(`${where}: tag ${tag}`);
    }
    expect(unknown).toEqual([]);
  });

  it('when a Grafana panel queries a backend series, then the job variable filters it', () => {
    const unfiltered = dashboard()
      .panels.flatMap((panel) =>
        (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr ?? '' })),
      )
      .filter(({ expr }) => [...expr.matchAll(/[a-z_]+\{([^}]*)\}/g)].some((m) => !m[1]!.includes('job=~"$job"')));
    expect(unfiltered).toEqual([]);
  });
});

describe('observability as code: alerts and runbooks', () => {
  it('when an alert is defined, then it has a severity, a summary, a description and a runbook naming dashboard panels', () => {
    const titles = dashboard().panels.map((panel) => panel.title);
    const rules = alertRules();
    expect(rules.map((rule) => rule.alert).sort()).toEqual(
      [
        'EventLoopDelayHigh',
        'GenAIErrorRateHigh',
        'GenAILatencyHigh',
        'HTTP5xxRatioHigh',
        'PlanJobsFailing',
        'TelemetrySpansDropped',
      ].sort(),
    );
    for (const rule of rules) {
      expect(rule.labels?.severity, rule.alert).toMatch(/^(critical|warning)$/);
      expect(rule.for, rule.alert).toMatch(/^\d+m$/);
      expect(rule.annotations, rule.alert).toMatchObject({
        summary: expect.any(String),
        description: expect.any(String),
        runbook: expect.stringMatching(/Traces?:/),
      });
      const named = panelsNamedIn(rule.annotations!.runbook!);
      expect(named.length, rule.alert).toBeGreaterThan(0);
      expect(
        named.filter((title) => !titles.includes(title)),
        rule.alert,
      ).toEqual([]);
    }
  });

  it('when an alert is defined, then alerts.test.yml makes it fire and keeps it silent, and checks it pending', () => {
    type Test = {
      alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }>;
      promql_expr_test?: Array<{ expr: string; exp_samples: Array<{ labels: string }> }>;
    };
    const tests = readYaml<{ tests: Test[] }>(ALERT_TESTS).tests;
    for (const { alert } of alertRules()) {
      const cases = tests.flatMap((test) => test.alert_rule_test ?? []).filter((c) => c.alertname === alert);
      expect(
        cases.some((c) => c.exp_alerts.length > 0),
        `${alert} fires somewhere`,
      ).toBe(true);
      expect(
        cases.some((c) => c.exp_alerts.length === 0),
        `${alert} is silent somewhere`,
      ).toBe(true);
      const pending = tests
        .flatMap((test) => test.promql_expr_test ?? [])
        .flatMap((c) => c.exp_samples)
        .some(
          (sample) => sample.labels.includes(`alertname="${alert}"`) && sample.labels.includes('alertstate="pending"'),
        );
      expect(pending, `${alert} is seen pending inside its for: window`).toBe(true);
    }
  });

  it('when the Datadog monitors are read, then each has a name, a query, a threshold and a message with a runbook', () => {
    const titles = datadogWidgets().map((widget) => widget.definition.title);
    const monitors = datadogMonitors();
    const alerts = alertRules().map((rule) => rule.alert);
    expect(
      monitors.map((m) => m.tags.find((tag) => tag.startsWith('prometheus_alert:'))?.split(':')[1]).sort(),
    ).toEqual([...alerts].sort());
    for (const monitor of monitors) {
      expect(monitor.name).toMatch(/^\[renovation-agent\] /);
      expect(monitor.type).toBe('query alert');
      const threshold = monitor.query.match(/ > ([\d.]+)$/)?.[1];
      expect(Number(threshold), monitor.query).toBe(monitor.options.thresholds.critical);
      expect(monitor.message, monitor.name).toMatch(/Runbook: [\s\S]*Traces?:/);
      const named = panelsNamedIn(monitor.message);
      expect(named.length, monitor.name).toBeGreaterThan(0);
      expect(
        named.filter((title) => !titles.includes(title)),
        monitor.name,
      ).toEqual([]);
    }
  });

  it('when the Datadog dashboard is read, then it has the same panels as the Grafana one', () => {
    const grafana = dashboard()
      .panels.filter((panel) => panel.type !== 'row')
      .map((panel) => panel.title);
    const datadog = datadogWidgets()
      .filter((widget) => widget.definition.type !== 'group')
      .map((widget) => widget.definition.title);
    expect(datadog).toEqual(grafana);
    expect(grafana).toEqual(expect.arrayContaining(['P95 latency for every endpoint', 'AI cost per hour']));
  });
});

const promtool = hasBinary('promtool');
const prometheus = hasBinary('prometheus');
if (!promtool || !prometheus) {
  console.warn(
    "\n⚠️  promtool/prometheus not on PATH: the Prometheus rule and PromQL checks are SKIPPED. Install Debian's `prometheus` package (.ci/run does).\n",
  );
}

const run = (args: string[], cwd = ROOT) => spawnSync('promtool', args, { cwd, encoding: 'utf8' });

describe.skipIf(!promtool)('observability as code: promtool', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rab-promql-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const checkAsRecordingRules = (exprs: string[]) => {
    const file = path.join(dir, `rules-${Date.now()}.yml`);
    const rules = exprs.map((expr, i) => ({ record: `grafana:query_${i}`, expr }));
    writeFileSync(file, stringify({ groups: [{ name: 'grafana-panels', rules }] }));
    return run(['check', 'rules', file]);
  };

  it('when promtool checks the alerting rules and runs their unit tests, then both pass', () => {
    const check = run(['check', 'rules', ALERTS]);
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const test = run(['test', 'rules', ALERT_TESTS]);
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/SUCCESS/);
  });

  it('when every Grafana panel query is written as a recording rule, then promtool accepts it as PromQL', () => {
    const queries = grafanaPanelQueries(dashboard());
    expect(queries.length).toBeGreaterThan(25);
    const result = checkAsRecordingRules(queries.map((q) => q.expr));
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    // The check has teeth: one broken query fails it.
    expect(checkAsRecordingRules(['sum(rate(http_server_request_duration_count[5m])']).status).not.toBe(0);
  });
});

describe.skipIf(!prometheus)('the Prometheus test helper (a real prometheus)', () => {
  let server: PrometheusServer;
  beforeAll(async () => {
    server = await startPrometheus({ scrapeTargets: [], scrapeSelf: true, scrapeIntervalMs: 500, ruleFiles: [ALERTS] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('when Prometheus scrapes itself, then up is 1 on the free port it was given', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toMatch(/:9090$/);
    const [up] = await server.waitForSeries('up{job="prometheus"} == 1', 20_000);
    expect(up!.metric).toMatchObject({ job: 'prometheus', instance: server.url.slice('http://'.length) });
    expect(up!.value[1]).toBe('1');
  });

  it('when alerts.yml is loaded, then every alert is there and evaluates without error', async () => {
    const expected = alertRules()
      .map((rule) => rule.alert)
      .sort();
    let rules: Array<{ name: string; health: string; lastError?: string }> = [];
    for (let i = 0; i < 100; i++) {
      rules = (await server.rules()).flatMap((group) => group.rules);
      if (rules.length === expected.length && rules.every((rule) => rule.health !== 'unknown')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(rules.map((rule) => rule.name).sort()).toEqual(expected);
    expect(rules.filter((rule) => rule.health !== 'ok')).toEqual([]);
  });

  it('when every Grafana panel query runs against it, then Prometheus answers without an error', async () => {
    for (const { panel, refId, expr } of grafanaPanelQueries(dashboard())) {
      await expect(server.query(expr), `${panel} ${refId}`).resolves.toBeInstanceOf(Array);
    }
    await expect(server.query('sum(')).rejects.toThrow(/parse error/);
  });
});
