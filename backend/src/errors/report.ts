import type { Logger } from '../utils/logger';
import type { AppError } from './app-error';
import { toAppError } from './to-app-error';

export interface ReportOptions {
  /** The log line's message. */
  message: string;
  /** Fields for the log line (a socket id, a job id, …). */
  fields?: Record<string, unknown>;
  /** What the client is told; default `toAppError` (the agent's paths pass `toAgentError`). */
  toClientError?: (error: unknown) => AppError;
  /**
   * Logged at error even when the client caused it: a job that failed for good is ours
   * whatever the cause. By default only our own faults (5xx) are logged.
   */
  always?: boolean;
}

/**
 * The one way a failure served to a client is reported (HTTP, Socket.io, both job paths):
 * mapped to the error the client sees, logged with its stack and cause when it is ours.
 * Returns the client's error, for the caller to send the way its protocol does.
 */
export function reportError(
  logger: Logger,
  error: unknown,
  { message, fields = {}, toClientError = toAppError, always = false }: ReportOptions,
): AppError {
  const appError = toClientError(error);
  if (always || appError.status >= 500) logger.error({ err: error, code: appError.code, ...fields }, message);
  return appError;
}
