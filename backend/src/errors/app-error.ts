/**
 * The one error type of the app, and the catalogue of codes a client can see. HTTP,
 * Socket.io and jobs all report through it; `cause` keeps the original error and stack.
 */
export const ERROR_CATALOGUE = {
  VALIDATION_FAILED: { status: 400, message: 'the request is not valid' },
  INVALID_JSON: { status: 400, message: 'the request body is not valid JSON' },
  UNAUTHORIZED: { status: 401, message: 'a valid bearer token is required' },
  FORBIDDEN: { status: 403, message: 'not allowed' },
  NOT_FOUND: { status: 404, message: 'not found' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'the request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported media type; send application/json' },
  RATE_LIMITED: { status: 429, message: 'too many requests' },
  INTERNAL: { status: 500, message: 'internal error' },
  AI_FAILED: { status: 502, message: 'the assistant could not answer; try again' },
  AI_UNAVAILABLE: { status: 503, message: 'the AI model is unavailable; try again shortly' },
  AI_RATE_LIMITED: { status: 503, message: 'the AI model is busy (rate limited); try again in a minute' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'a dependency is unavailable; try again shortly' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, message: 'this Idempotency-Key was already used for a different request' },
  AI_BUDGET_EXCEEDED: { status: 429, message: 'your daily AI budget is used up; it resets at 00:00 UTC' },
  HEADERS_TOO_LARGE: { status: 431, message: 'the request headers are too large' },
  REQUEST_TIMEOUT: { status: 408, message: 'the request took too long to arrive' },
  UNKNOWN_EVENT: { status: 400, message: 'unknown event' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export class AppError extends Error {
  readonly status: number;
  readonly details: unknown;
  /** Response headers that belong to the error (`Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CATALOGUE[code].message,
    options: { cause?: unknown; details?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.status = ERROR_CATALOGUE[code].status;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
