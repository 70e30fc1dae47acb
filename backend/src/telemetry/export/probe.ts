import { connect } from 'node:net';

/**
 * Whether something accepts TCP connections at the URL's host and port. Used to tell
 * "the collector is down" (connection refused, answered at once) from a slow one,
 * without sending anything. Only an error answer counts as "no": a timeout (a busy event
 * loop at start-up, a far endpoint) says nothing, so it counts as "yes".
 */
export function canConnect(target: string, timeoutMs = 2_000): Promise<boolean> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return Promise.resolve(false);
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    // After a blocked event loop (a busy start-up) the timer and a refusal are due at once and
    // timers run first: give a pending refusal its turn (I/O runs before setImmediate) before
    // concluding "no answer".
    socket.setTimeout(timeoutMs, () => setImmediate(() => finish(true)));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
