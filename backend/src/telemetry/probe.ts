import { connect } from 'node:net';

/**
 * Whether something accepts TCP connections at the URL's host and port. Used to tell
 * "the collector is down" (connection refused, answered at once) from a slow one,
 * without sending anything.
 */
export function canConnect(target: string, timeoutMs = 500): Promise<boolean> {
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
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
