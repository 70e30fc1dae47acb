import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../testing/log-capture';
import { toSafeError } from './safe-error';

class DrizzleQueryError extends Error {
  constructor(
    readonly query: string,
    readonly params: unknown[],
    cause: unknown,
  ) {
    super(`Failed query: ${query}\nparams: ${params.join(',')}`, { cause });
  }
}

describe('toSafeError', () => {
  it('when a query failed, then the statement and SQLSTATE stay and the parameter values go, also from the cause', () => {
    const pgError = Object.assign(new Error('duplicate key value violates unique constraint "plans_job_id_unique"'), {
      code: '23505',
      detail: 'Key (job_id)=(secret-value) already exists.',
    });
    const error = new DrizzleQueryError(
      'insert into "messages" ("content") values ($1)',
      ['my private message'],
      pgError,
    );
    const safe = toSafeError(error) as Error & { code?: string; cause?: Error & { detail?: string } };
    const text = JSON.stringify({
      message: safe.message,
      stack: safe.stack,
      cause: safe.cause,
      causeMessage: safe.cause?.message,
    });
    expect(text).not.toContain('my private message');
    expect(text).not.toContain('secret-value');
    expect(safe.message).toBe('Failed query: insert into "messages" ("content") values ($1)');
    expect(safe.code).toBe('23505');
    expect(safe.stack).toMatch(/^DatabaseQueryError: Failed query: insert into "messages"/);
  });

  it('when an error holds nothing sensitive, then it is returned as it is', () => {
    const error = new TypeError('x is not a function');
    expect(toSafeError(error)).toBe(error);
    expect(toSafeError('text')).toBe('text');
  });
});

describe('logging a failed query', () => {
  it('when a query error is logged, then the line has the statement but not the values', () => {
    const { lines, logger } = captureLogs();
    logger.error(
      { err: new DrizzleQueryError('update "plans" set "content" = $1', ['my secret plan'], new Error('boom')) },
      'failed',
    );
    expect(JSON.stringify(lines)).not.toContain('my secret plan');
    expect(lines[0]).toMatchObject({
      err: { message: expect.stringMatching(/^Failed query: update "plans" set "content" = \$1/) },
    });
  });
});
