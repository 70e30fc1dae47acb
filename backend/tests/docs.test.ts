import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEnv, parseEnv, parseEnvWithWarnings } from '../src/config/env';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('documentation stays true', () => {
  const names = describeEnv().map(({ name }) => name);

  it('when a variable is in the env schema, then the README table lists it', () => {
    const readme = read('README.md');
    expect(names.filter((name) => !readme.includes(`| \`${name}\` |`))).toEqual([]);
  });

  it('when a variable is in the env schema, then .env.example has it', () => {
    const example = read('.env.example');
    expect(names.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(example))).toEqual([]);
  });

  it('when the README names a test command, then package.json runs it', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toBeDefined();
    expect(read('.ci/run')).toMatch(/^npm test$/m);
    expect(read('README.md')).toContain('npm test');
  });

  it('when .env.example is copied as it is, then every value is the documented default, nothing warns, and no mode or service name is forced', () => {
    const values = Object.fromEntries(
      read('.env.example')
        .split('\n')
        .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const { env, warnings } = parseEnvWithWarnings(values);
    expect(warnings).toEqual([]);
    // the endpoint is spelt out in the file; unset, it is the same URL (for http/protobuf)
    expect(env).toEqual({ ...parseEnv({}), OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' });
    expect(values.NODE_ENV).toBeUndefined();
    // the worker falls back to its own name only when OTEL_SERVICE_NAME is unset
    expect(values.OTEL_SERVICE_NAME).toBeUndefined();
  });

  it('when the README names a trace backend, then otel-collector.yaml has its exporter in the pipeline', () => {
    const collector = read('otel-collector.yaml');
    const pipeline =
      /exporters: \[([^\]]+)\]\s*$/m
        .exec(collector)?.[1]
        ?.split(',')
        .map((name) => name.trim()) ?? [];
    for (const exporter of [
      'otlphttp/honeycomb',
      'otlphttp/datadog-agent',
      'otlphttp/datadog-llmobs',
      'otlphttp/grafana-cloud',
    ]) {
      expect(collector).toContain(`  ${exporter}:`);
      expect(pipeline).toContain(exporter);
    }
    expect(collector).toContain('x-honeycomb-dataset');
    expect(collector).toContain('dd-otlp-source: llmobs');
  });
});
