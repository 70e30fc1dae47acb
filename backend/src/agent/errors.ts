import { AppError } from '../errors/app-error';
import { isNetworkError } from '../errors/network';
import { toAppError } from '../errors/to-app-error';

/**
 * What a user is told when the agent fails. An upstream 429 is *our* quota, not the
 * user's doing, so it is AI_RATE_LIMITED rather than the client's RATE_LIMITED.
 */
export function toAgentError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const { status, name } = (error ?? {}) as { status?: unknown; name?: unknown };
  if (status === 429 || name === 'RateLimitCapacityError' || name === 'RateLimitQuotaExhaustedError') {
    return new AppError('AI_RATE_LIMITED', undefined, { cause: error });
  }
  if ((typeof status === 'number' && status >= 500) || isNetworkError(error)) {
    return new AppError('AI_UNAVAILABLE', undefined, { cause: error });
  }
  const mapped = toAppError(error);
  return mapped.code === 'INTERNAL' ? new AppError('AI_FAILED', undefined, { cause: error }) : mapped;
}
