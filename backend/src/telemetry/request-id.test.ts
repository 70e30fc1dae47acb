import { ROOT_CONTEXT, defaultTextMapGetter, defaultTextMapSetter } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { RequestIdPropagator, getRequestId, isValidRequestId, resolveRequestId, setRequestId } from './request-id';

describe('request ids', () => {
  it.each(['abc', 'A-b_c.9', 'x'.repeat(128), '0f8fad5b-d9cb-469f-a165-70867728950e'])(
    'when the incoming id is %s, then it is kept',
    (id) => {
      expect(isValidRequestId(id)).toBe(true);
      expect(resolveRequestId(id)).toBe(id);
    },
  );

  it.each(['', 'x'.repeat(129), 'has space', 'semi;colon', 'new\nline', '<script>', 'ünicode'])(
    'when the incoming id is %j, then a new UUID replaces it',
    (id) => {
      expect(isValidRequestId(id)).toBe(false);
      expect(resolveRequestId(id)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    },
  );

  it('when several ids arrive, then the first one is used', () => {
    expect(resolveRequestId(['first', 'second'])).toBe('first');
  });

  it('when the propagator extracts, then the id rides on the context; when it injects, then the header carries it', () => {
    const propagator = new RequestIdPropagator();
    const ctx = propagator.extract(ROOT_CONTEXT, { 'x-request-id': 'abc-123' }, defaultTextMapGetter);
    expect(getRequestId(ctx)).toBe('abc-123');
    const carrier: Record<string, string> = {};
    propagator.inject(ctx, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({ 'x-request-id': 'abc-123' });
    expect(propagator.fields()).toEqual(['x-request-id']);
  });

  it('when the context already has an id, then extract keeps it', () => {
    const ctx = new RequestIdPropagator().extract(
      setRequestId(ROOT_CONTEXT, 'outer'),
      { 'x-request-id': 'inner' },
      defaultTextMapGetter,
    );
    expect(getRequestId(ctx)).toBe('outer');
  });

  it('when no header arrives, then extract makes a new id', () => {
    const ctx = new RequestIdPropagator().extract(ROOT_CONTEXT, {}, defaultTextMapGetter);
    expect(isValidRequestId(getRequestId(ctx))).toBe(true);
  });
});
