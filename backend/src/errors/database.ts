/**
 * Classifies driver errors without importing the driver: errors/ stays a leaf that every layer
 * may import (the database layer included).
 */
/** True for errors that mean the database is unreachable rather than the query wrong. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 3) return false;
  const { code, message, cause } = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (
    typeof code === 'string' &&
    (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', '57P01', '57P03'].includes(code) || code.startsWith('08'))
  ) {
    return true;
  }
  if (typeof message === 'string' && /timeout exceeded when trying to connect|Connection terminated/i.test(message))
    return true;
  // drizzle wraps the driver's error in `cause`
  return isDatabaseUnavailable(cause, depth + 1);
}
