/** What `withDeadline` resolves with when the deadline came first. */
export const TIMED_OUT = Symbol('timed out');

/**
 * Waits for `work` until `deadline` (epoch ms): its value, or `TIMED_OUT` once the deadline
 * passes (the work goes on; nobody waits for it). The timer is cleared when the work settles
 * first, and by default does not keep the process alive (`keepAlive: true` when the wait is
 * all the process has left to do, such as closing the HTTP server). A rejection of `work`
 * before the deadline is passed on.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  deadline: number,
  { keepAlive = false } = {},
): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, deadline - Date.now()));
    if (!keepAlive) timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
