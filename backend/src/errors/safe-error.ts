/**
 * Errors as they may be logged or put on a span. drizzle's query errors carry every
 * parameter value in their message ("Failed query: … params: alice,…,<chat text>") and
 * in `params`; pg's errors quote row values in `detail`. Those are user data: this keeps
 * the statement, the SQLSTATE and the stack, and drops the values.
 */
interface QueryErrorLike extends Error {
  query: string;
  params: unknown;
}

function isQueryError(error: Error): error is QueryErrorLike {
  return typeof (error as { query?: unknown }).query === 'string' && 'params' in error;
}

function frames(stack: string | undefined): string {
  return (stack ?? '')
    .split('\n')
    .filter((line) => line.startsWith('    at '))
    .join('\n');
}

export function toSafeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error) || depth > 3) return error;
  if (isQueryError(error)) {
    const safe = new Error(`Failed query: ${error.query}`, { cause: toSafeError(error.cause, depth + 1) });
    safe.name = 'DatabaseQueryError';
    safe.stack = `${safe.name}: ${safe.message}\n${frames(error.stack)}`;
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') Object.assign(safe, { code });
    return safe;
  }
  const { detail, where, cause } = error as { detail?: unknown; where?: unknown; cause?: unknown };
  if (detail === undefined && where === undefined && cause === undefined) return error;
  const safe = Object.assign(Object.create(Object.getPrototypeOf(error) as object) as Error, error, {
    message: error.message,
    stack: error.stack,
    ...(cause !== undefined ? { cause: toSafeError(cause, depth + 1) } : {}),
  });
  delete (safe as { detail?: unknown }).detail;
  delete (safe as { where?: unknown }).where;
  return safe;
}
