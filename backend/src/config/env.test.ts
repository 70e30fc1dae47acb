import { describe, expect, it } from 'vitest';
import { EnvError, describeEnv, parseEnv, parseEnvWithWarnings } from './env';

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
    const env = parseEnv({
      PORT: '8080',
      OTEL_SDK_DISABLED: 'true',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_LOG_LEVEL: 'DEBUG',
    });
    expect(env).toMatchObject({
      PORT: 8080,
      OTEL_SDK_DISABLED: true,
      OTEL_TRACES_SAMPLER_ARG: 0.25,
      OTEL_LOG_LEVEL: 'debug',
    });
  });

  it.each([
    ['PORT', 'eighty', 'PORT'],
    ['PORT', '70000', 'PORT'],
    ['JWT_SECRET', 'short', 'JWT_SECRET'],
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

  it('when NODE_ENV=production also has a bad variable, then every problem is named at once', () => {
    try {
      parseEnv({ NODE_ENV: 'production', JWT_SECRET: 'short', PORT: 'eighty' });
      expect.unreachable();
    } catch (error) {
      expect((error as EnvError).problems).toEqual([
        expect.stringMatching(/^PORT: /),
        expect.stringMatching(/^JWT_SECRET: must be at least 32/),
        'DATABASE_URL: is required when NODE_ENV=production',
        'GEMINI_API_KEY: is required when NODE_ENV=production',
      ]);
    }
  });

  it.each([
    ['OTEL_TRACES_SAMPLER_ARG', '1.5', undefined, /ignored/],
    ['OTEL_TRACES_SAMPLER', 'sometimes', undefined, /using the default/],
    ['OTEL_TRACES_SAMPLER', 'xray', undefined, /X-Ray.*using the default/],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'not a url', undefined, /not an absolute URL/],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'kafka', 'http/protobuf', /using "http\/protobuf"/],
    ['OTEL_SDK_DISABLED', '1', false, /using false/],
    ['OTEL_LOG_LEVEL', 'trace', 'info', /using "info"/],
    ['OTEL_BSP_MAX_QUEUE_SIZE', 'lots', 2048, /using 2048/],
  ])('when %s=%s, then start-up goes on with %s and a warning', (name, value, used, message) => {
    const { env, warnings } = parseEnvWithWarnings({ [name]: value });
    expect(env[name as keyof typeof env]).toEqual(used);
    expect(warnings).toEqual([{ variable: name, message: expect.stringMatching(message) }]);
    expect(warnings[0]!.message).toContain(name);
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'GRPC', 'grpc'],
    ['OTEL_TRACES_SAMPLER', 'ParentBased_TraceIdRatio', 'parentbased_traceidratio'],
    ['OTEL_SDK_DISABLED', 'tRuE', true],
    ['OTEL_EXPORTER_OTLP_COMPRESSION', 'GZIP', 'gzip'],
    ['OTEL_PROPAGATORS', 'B3, tracecontext', ['b3', 'tracecontext']],
  ])('when %s=%s, then the value is taken case-insensitively as %j without a warning', (name, value, used) => {
    const { env, warnings } = parseEnvWithWarnings({ [name]: value });
    expect(env[name as keyof typeof env]).toEqual(used);
    expect(warnings).toEqual([]);
  });

  it('when OTEL_NODE_ENABLED_INSTRUMENTATIONS names only instrumentations this service does not load, then none is enabled, with a warning', () => {
    const { env, warnings } = parseEnvWithWarnings({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'express,fs' });
    expect(env.OTEL_NODE_ENABLED_INSTRUMENTATIONS).toEqual([]);
    expect(warnings.map((warning) => warning.message)).toEqual([
      expect.stringMatching(/"express" is not supported \(this service does not load it\)/),
      expect.stringMatching(/"fs" is not supported/),
      expect.stringMatching(/names nothing usable; using nothing/),
    ]);
  });

  it('when an endpoint that is not a URL carries credentials, then the warning leaves them out', () => {
    const { warnings } = parseEnvWithWarnings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:hunter2@otel:4318' });
    expect(warnings[0]!.message).toMatch(
      /^OTEL_EXPORTER_OTLP_ENDPOINT="\[REDACTED\]@otel:4318" is not an absolute URL/,
    );
  });

  it('when OTEL_EXPORTER_OTLP_HEADERS is malformed, then the warning names the variable but never the value', () => {
    const { warnings } = parseEnvWithWarnings({ OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team: abc123secret' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('OTEL_EXPORTER_OTLP_HEADERS is malformed');
    expect(JSON.stringify(warnings)).not.toContain('abc123secret');
  });

  it('when NODE_ENV=production has them, then it parses', () => {
    const env = parseEnv({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/app',
      JWT_SECRET: 'x'.repeat(32),
      GEMINI_API_KEY: 'key',
    });
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
    expect(
      parseEnv({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: value })
        .OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
    ).toBe(on);
  });

  it('when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT is unknown, then a warning names it and capture stays off', () => {
    const { env, warnings } = parseEnvWithWarnings({
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'yes please',
    });
    expect(env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT).toBe(false);
    expect(warnings).toEqual([
      {
        variable: 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT',
        message: expect.stringContaining('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="yes please"'),
      },
    ]);
  });

  it('when OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental, then it is accepted', () => {
    expect(
      parseEnv({ OTEL_SEMCONV_STABILITY_OPT_IN: 'gen_ai_latest_experimental' }).OTEL_SEMCONV_STABILITY_OPT_IN,
    ).toBe('gen_ai_latest_experimental');
  });

  it('when the schema is listed, then every variable has a description for the README', () => {
    const undocumented = describeEnv().filter(({ description }) => !description);
    expect(undocumented).toEqual([]);
  });
});
