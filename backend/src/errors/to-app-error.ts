import { ZodError } from 'zod';
import { isDatabaseUnavailable } from './database';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from './app-error';

// Error `type`s set by body-parser / raw-body (what express.json() throws).
const BODY_ERRORS: Record<string, ErrorCode> = {
  'entity.parse.failed': 'INVALID_JSON',
  'entity.too.large': 'PAYLOAD_TOO_LARGE',
  'encoding.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'charset.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'request.aborted': 'VALIDATION_FAILED',
  'request.size.invalid': 'VALIDATION_FAILED',
  'parameters.too.many': 'VALIDATION_FAILED',
};

function codeForStatus(status: number): ErrorCode | undefined {
  return (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).find((code) => ERROR_CATALOGUE[code].status === status);
}

export function describeZodError(error: ZodError): {
  message: string;
  details: Array<{ path: string; message: string }>;
} {
  const details = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  const message = details.map(({ path, message }) => (path ? `${path}: ${message}` : message)).join('; ');
  return { message, details };
}

/**
 * Maps anything thrown while serving a client to the error the client sees. Whatever
 * a client can cause maps to a 4xx; only our own faults become INTERNAL, with the
 * original kept as `cause` for the log and the span.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof ZodError) {
    const { message, details } = describeZodError(error);
    return new AppError('VALIDATION_FAILED', message, { details, cause: error });
  }
  if (error && typeof error === 'object') {
    const { type, status, expose } = error as { type?: unknown; status?: unknown; expose?: unknown };
    const bodyCode = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
    if (bodyCode !== undefined) return new AppError(bodyCode, undefined, { cause: error });
    if (typeof status === 'number' && status >= 400 && status < 500 && expose !== false) {
      return new AppError(codeForStatus(status) ?? 'VALIDATION_FAILED', undefined, { cause: error });
    }
  }
  if (isDatabaseUnavailable(error))
    return new AppError('SERVICE_UNAVAILABLE', 'the database is unavailable; try again shortly', { cause: error });
  // SQLSTATE class 22 (data exception): a value the database cannot store, such as a NUL character
  const sqlState =
    (error as { cause?: { code?: unknown } } | undefined)?.cause?.code ??
    (error as { code?: unknown } | undefined)?.code;
  if (typeof sqlState === 'string' && /^22[0-9A-Z]{3}$/.test(sqlState)) {
    return new AppError(
      'VALIDATION_FAILED',
      'the request contains a value that cannot be stored (for example a NUL character)',
      { cause: error },
    );
  }
  return new AppError('INTERNAL', undefined, { cause: error });
}
