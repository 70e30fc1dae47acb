import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from './app-error';
import { toAppError } from './to-app-error';

function bodyParserError(type: string, status: number): Error {
  return Object.assign(new Error(type), { type, status, expose: true });
}

describe('toAppError', () => {
  it('when given an AppError, then it is returned as is', () => {
    const error = new AppError('NOT_FOUND', 'session not found');
    expect(toAppError(error)).toBe(error);
  });

  it('when validation fails, then the client gets 400 with every problem and its path', () => {
    const result = z
      .strictObject({ title: z.string().min(1), budgetCents: z.number().int() })
      .safeParse({ title: '', budgetCents: 1.5 });
    const error = toAppError(result.error);
    expect(error.status).toBe(400);
    expect(error.toBody().error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/^title: .+; budgetCents: .+$/);
    expect(error.details).toHaveLength(2);
  });

  it.each([
    ['entity.parse.failed', 400, 'INVALID_JSON', 400],
    ['entity.too.large', 413, 'PAYLOAD_TOO_LARGE', 413],
    ['encoding.unsupported', 415, 'UNSUPPORTED_MEDIA_TYPE', 415],
    ['charset.unsupported', 415, 'UNSUPPORTED_MEDIA_TYPE', 415],
    ['request.aborted', 400, 'VALIDATION_FAILED', 400],
  ])('when the JSON body parser throws %s, then the client gets %i %s', (type, status, code, expected) => {
    const error = toAppError(bodyParserError(type, status));
    expect(error).toMatchObject({ code, status: expected });
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('when the database is unreachable (wrapped by drizzle), then the client gets 503', () => {
    const driver = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const wrapped = new Error('Failed query: select 1', { cause: driver });
    expect(toAppError(wrapped)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
  });

  it('when something unexpected is thrown, then it is INTERNAL with the original kept as cause', () => {
    const original = new TypeError('undefined is not a function');
    const error = toAppError(original);
    expect(error).toMatchObject({ code: 'INTERNAL', status: 500, message: 'internal error' });
    expect(error.cause).toBe(original);
  });
});
