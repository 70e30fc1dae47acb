/**
 * Critical operations: always sampled (within the forced-sampling rate limit), whatever
 * the ratio. The one list; a rule matches an HTTP server span by method and path, which
 * is what the span has when the sampler runs (`http.route` is only known later).
 */
export interface CriticalOperation {
  name: string;
  method: string;
  /** Exact path, or a pattern for paths with ids. */
  path: string | RegExp;
}

export const CRITICAL_OPERATIONS: readonly CriticalOperation[] = [
  { name: 'payments.create', method: 'POST', path: '/api/payments' },
];

/**
 * Root spans that are housekeeping, never kept: BullMQ's periodic lock renewal and
 * stalled-job checks (each would be its own trace every few seconds per worker). Stall
 * recoveries are logged by the worker instead.
 */
export const HOUSEKEEPING_ROOT_SPANS =
  /^(?:moveStalledJobsToWait|extendLocks|startStalledCheckTimer|getNextJob|close|drain|pause|resume) /;
