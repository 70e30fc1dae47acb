import type { Span } from '@opentelemetry/api';
import { tracingFailed } from '../failure';
import { ATTR_CANCELLED } from '../attributes';

/**
 * Whether `error` is the caller stopping the work (the chat client went away and the
 * run's AbortSignal fired) rather than the work failing.
 */
export function isCancellation(error: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return true;
  if (error === null || typeof error !== 'object') return false;
  const { name } = error as { name?: unknown };
  const ctor = (error as { constructor?: { name?: string } }).constructor?.name;
  return name === 'AbortError' || ctor === 'GoogleGenerativeAIAbortError';
}

/**
 * Ends a span whose work was cancelled by its caller. Not a failure (the recording-errors
 * conventions leave the status UNSET unless the operation failed, and a user leaving is
 * not one): no ERROR, no `error.type`, no exception event, so error rates and the red
 * markers in trace viewers stay about real failures; `renovation.cancelled=true` says
 * why the span ends early.
 */
export function endCancelled(span: Span): void {
  try {
    span.setAttribute(ATTR_CANCELLED, true);
  } catch (failure) {
    tracingFailed('endCancelled', failure);
  }
  span.end();
}
