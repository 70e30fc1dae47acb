import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeViewerConfig, parseViewerConfig } from './config';

describe('trace viewer configuration', () => {
  it('when nothing is set, then it listens on loopback on the OTLP and Jaeger ports, in memory only', () => {
    expect(parseViewerConfig({})).toEqual({
      host: '127.0.0.1',
      otlpPort: 4318,
      uiPort: 16686,
      maxTraces: 500,
      maxSpansPerTrace: 5000,
      file: undefined,
      logLevel: 'info',
    });
  });

  it('when NODE_ENV=production or a value is bad, then it refuses, naming every problem', () => {
    expect(() =>
      parseViewerConfig({ NODE_ENV: 'production', TRACE_VIEWER_UI_PORT: '70000', TRACE_VIEWER_MAX_TRACES: '0' }),
    ).toThrow(
      /NODE_ENV: the trace viewer is a development tool[\s\S]*TRACE_VIEWER_UI_PORT: expected a port[\s\S]*TRACE_VIEWER_MAX_TRACES: expected an integer/,
    );
  });

  it('when a viewer variable exists, then the README documents it', () => {
    const readme = readFileSync(path.resolve(__dirname, '../../../../README.md'), 'utf8');
    const names = describeViewerConfig().map(({ name }) => name);
    expect(names.length).toBeGreaterThan(5);
    expect(names.filter((name) => !readme.includes(`| \`${name}\` |`))).toEqual([]);
  });
});
