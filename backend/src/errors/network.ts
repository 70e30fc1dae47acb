/**
 * Whether a failure is the network's (the peer refused, reset or timed out, or undici's
 * `fetch failed`) rather than an answer: the one test the agent's error mapping (AI_UNAVAILABLE)
 * and the model span's `error.type` (`network_error`) share.
 */
const NETWORK_FAILURE = /fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|network/i;

export function isNetworkError(error: unknown): boolean {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' && NETWORK_FAILURE.test(message);
}
