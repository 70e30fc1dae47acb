import { describe, expect, it } from 'vitest';
import { EnvError, describeEnv, parseEnv } from './env';

describe('parseEnv', () => {
  it('when nothing is set, then every variable has its development default', () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      OTEL_SDK_DISABLED: false,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_BSP_SCHEDULE_DELAY: 5000,
      TRACE_SQL_PARAMETERS: false,
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.JWT_SECRET).toBeUndefined();
  });

  it('when values are given, then they are parsed to their types', () => {
    const env = parseEnv({ PORT: '8080', OTEL_SDK_DISABLED: 'true', OTEL_TRACES_SAMPLER_ARG: '0.25', OTEL_LOG_LEVEL: 'DEBUG' });
    expect(env).toMatchObject({ PORT: 8080, OTEL_SDK_DISABLED: true, OTEL_TRACES_SAMPLER_ARG: 0.25, OTEL_LOG_LEVEL: 'debug' });
  });

  it.each([
    ['PORT', 'eighty', 'PORT'],
    ['PORT', '70000', 'PORT'],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5', 'OTEL_TRACES_SAMPLER_ARG'],
    ['OTEL_TRACES_SAMPLER', 'sometimes', 'OTEL_TRACES_SAMPLER'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'not a url', 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    ['JWT_SECRET', 'short', 'JWT_SECRET'],
    ['OTEL_SDK_DISABLED', 'yes', 'OTEL_SDK_DISABLED'],
    ['BODY_LIMIT', 'lots', 'BODY_LIMIT'],
    ['GEMINI_TEMPERATURE', '3', 'GEMINI_TEMPERATURE'],
    ['GEMINI_BASE_URL', 'localhost:9', 'GEMINI_BASE_URL'],
  ])('when %s=%s, then start-up stops with a message naming %s', (name, value, named) => {
    expect(() => parseEnv({ [name]: value })).toThrowError(new RegExp(`${named}: `));
  });

  it('when NODE_ENV=production lacks DATABASE_URL, JWT_SECRET and GEMINI_API_KEY, then all are named', () => {
    try {
      parseEnv({ NODE_ENV: 'production' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(EnvError);
      expect((error as EnvError).problems).toEqual([
        'DATABASE_URL: is required when NODE_ENV=production',
        'JWT_SECRET: is required when NODE_ENV=production',
        'GEMINI_API_KEY: is required when NODE_ENV=production',
      ]);
    }
  });

  it('when NODE_ENV=production has them, then it parses', () => {
    const env = parseEnv({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/app', JWT_SECRET: 'x'.repeat(32), GEMINI_API_KEY: 'key' });
    expect(env.NODE_ENV).toBe('production');
  });

  it.each([
    [undefined, false],
    ['true', true],
    ['TRUE', true],
    ['SPAN_ONLY', true],
    ['span_and_event', true],
    ['false', false],
    ['NO_CONTENT', false],
    // content goes on spans only: no GenAI events are emitted, so there is nowhere to put it
    ['EVENT_ONLY', false],
  ])('when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=%s, then content capture is %s', (value, on) => {
    expect(parseEnv({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: value }).OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT).toBe(on);
  });

  it('when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT is unknown, then a warning names it and capture stays off', async () => {
    const warnings: string[] = [];
    const listen = (warning: Error) => warnings.push(warning.message);
    process.on('warning', listen);
    try {
      expect(parseEnv({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'yes please' }).OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT).toBe(false);
      // a process warning is delivered on a later tick
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listen);
    }
    expect(warnings).toEqual([expect.stringContaining('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="yes please"')]);
  });

  it('when OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental, then it is accepted', () => {
    expect(parseEnv({ OTEL_SEMCONV_STABILITY_OPT_IN: 'gen_ai_latest_experimental' }).OTEL_SEMCONV_STABILITY_OPT_IN).toBe('gen_ai_latest_experimental');
  });

  it('when the schema is listed, then every variable has a description for the README', () => {
    const undocumented = describeEnv().filter(({ description }) => !description);
    expect(undocumented).toEqual([]);
  });
});
