import { createRequire } from 'node:module';
import type { Attributes } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { coreOfSdkTrace, fastPrimitiveAttributes } from './primitive-attributes';

// the builds the app runs (CommonJS), whatever this test file is loaded as
const fromSdkTrace = createRequire(createRequire(__filename).resolve('@opentelemetry/sdk-trace'));
const sdkTrace = fromSdkTrace('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
// core's own module of these functions: the originals, whatever its exports object holds now
const reference = createRequire(fromSdkTrace.resolve('@opentelemetry/core'))('./common/attributes.cjs') as {
  cleanAttributes: (
    attributes: unknown,
    limits: object,
  ) => { attributes?: Attributes; droppedAttributesCount?: number };
  maybeAddAttribute: (options: object) => number;
};

type Limits = { attributeCountLimit?: number; attributeValueLengthLimit?: number };
const LIMITS: Limits[] = [
  { attributeCountLimit: Number.POSITIVE_INFINITY, attributeValueLengthLimit: Number.POSITIVE_INFINITY },
  { attributeCountLimit: 128, attributeValueLengthLimit: Number.POSITIVE_INFINITY },
  { attributeCountLimit: 2, attributeValueLengthLimit: 5 },
  { attributeCountLimit: 128, attributeValueLengthLimit: 0 },
  { attributeCountLimit: 128, attributeValueLengthLimit: -1 },
  { attributeCountLimit: 128, attributeValueLengthLimit: Number.NaN },
  { attributeCountLimit: 128 },
  {},
];
const inherited = Object.create({ inherited: 'no' }) as Record<string, unknown>;
inherited.own = 'yes';
const INPUTS: unknown[] = [
  { 'http.request.method': 'GET', 'http.response.status_code': 200, 'http.route': '/api/x', ok: true },
  { a: 'x', b: undefined, c: 1.5, d: Number.NaN, e: false, f: '' },
  { 'db.query.text': 'select "id" from "sessions" where "id" = $1', 'server.port': 5432 },
  { '': 'empty key', a: 'b' },
  { long: 'more than five characters', short: 'abc' },
  { list: ['a', 'b'], a: 'x' },
  { map: { nested: 'value' } },
  { bytes: new Uint8Array([1, 2, 3]) },
  { nothing: null, a: 1 },
  { big: 10n },
  { fn: () => 1 },
  { date: new Date(0) },
  { a: 1, b: 2, c: 3, d: 4 },
  { [Symbol('hidden')]: 'symbol key', a: 'x' },
  inherited,
  {},
  undefined,
  null,
  'not an object',
];

/**
 * The fast path replaces two exports of the core that sdk-trace calls (`cleanAttributes`,
 * `maybeAddAttribute`). These tests fail when an upgrade moves them (so the saving would be
 * lost silently) and when the fast path answers anything other than the original would.
 */
describe('span attributes: a fast path for primitive values, the same result', () => {
  it('when installed, then core exports the fast functions and installing again changes nothing', () => {
    expect(fastPrimitiveAttributes()).toBe(true);
    const core = coreOfSdkTrace();
    const installed = core.cleanAttributes;
    expect(installed).not.toBe(reference.cleanAttributes);
    expect(fastPrimitiveAttributes()).toBe(true);
    expect(core.cleanAttributes).toBe(installed);
  });

  it('when attributes are cleaned, then the result is the original one: keys in order, values, dropped count', () => {
    expect(fastPrimitiveAttributes()).toBe(true);
    const clean = coreOfSdkTrace().cleanAttributes as typeof reference.cleanAttributes;
    for (const limits of LIMITS)
      for (const input of INPUTS) {
        const expected = reference.cleanAttributes(input, limits);
        const actual = clean(input, limits);
        expect(
          actual,
          JSON.stringify({ input, limits }, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
        ).toEqual(expected);
        expect(Object.keys(actual.attributes ?? {})).toEqual(Object.keys(expected.attributes ?? {}));
      }
  });

  it('when an attribute is added to a span, then the decision and the attributes are the original ones', () => {
    expect(fastPrimitiveAttributes()).toBe(true);
    const maybeAdd = coreOfSdkTrace().maybeAddAttribute as typeof reference.maybeAddAttribute;
    const values: unknown[] = ['GET', '', 'more than five', 0, Number.NaN, true, undefined, null, ['a'], { a: 1 }, 1n];
    for (const limits of LIMITS)
      for (const key of ['http.route', '', 'existing'])
        for (const value of values)
          for (const currentAttributesCount of [0, 1, 2, 200]) {
            const expected = { existing: 'before' } as Attributes;
            const actual = { existing: 'before' } as Attributes;
            const decision = reference.maybeAddAttribute({
              key,
              value,
              attributes: expected,
              limits,
              currentAttributesCount,
            });
            expect(maybeAdd({ key, value, attributes: actual, limits, currentAttributesCount })).toBe(decision);
            expect(actual).toEqual(expected);
          }
  });

  it('when sdk-trace starts a span and sets attributes, then it calls through the fast path', () => {
    expect(fastPrimitiveAttributes()).toBe(true);
    const core = coreOfSdkTrace();
    const fastClean = core.cleanAttributes as (...args: unknown[]) => unknown;
    const fastAdd = core.maybeAddAttribute as (...args: unknown[]) => unknown;
    const calls = { clean: 0, add: 0 };
    core.cleanAttributes = (...args: unknown[]) => {
      calls.clean++;
      return fastClean(...args);
    };
    core.maybeAddAttribute = (...args: unknown[]) => {
      calls.add++;
      return fastAdd(...args);
    };
    try {
      const provider = new sdkTrace.TracerProvider({ sampler: new sdkTrace.AlwaysOnSampler() });
      const span = provider
        .getTracer('test')
        .startSpan('SELECT sessions', { attributes: { 'db.system.name': 'postgresql', 'server.port': 5432 } });
      span.setAttribute('db.operation.name', 'SELECT');
      span.setAttribute('db.query.summary', ['not', 'primitive'] as unknown as string);
      span.end();
      // before and after the sampler, then each setAttribute
      expect(calls).toEqual({ clean: 2, add: 2 });
      expect((span as unknown as { attributes: Attributes }).attributes).toEqual({
        'db.system.name': 'postgresql',
        'server.port': 5432,
        'db.operation.name': 'SELECT',
        'db.query.summary': ['not', 'primitive'],
      });
    } finally {
      core.cleanAttributes = fastClean;
      core.maybeAddAttribute = fastAdd;
    }
  });
});
