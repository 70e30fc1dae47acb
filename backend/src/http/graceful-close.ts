import { once } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { TIMED_OUT, withDeadline } from '../utils/deadline';

/**
 * Stops accepting connections and waits for in-flight requests. Idle keep-alive
 * connections are closed as they become idle (responses during shutdown also carry
 * `Connection: close`); whatever is still open at `forceAt` is cut.
 */
export async function closeGracefully(server: Server, { forceAt }: { forceAt: number }): Promise<{ forced: boolean }> {
  if (!server.listening) return { forced: false };
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  try {
    if ((await withDeadline(closed, forceAt, { keepAlive: true })) !== TIMED_OUT) return { forced: false };
    server.closeAllConnections();
    await closed;
    return { forced: true };
  } finally {
    clearInterval(sweep);
  }
}

export interface RequestTracker {
  /** Waits until the requests in progress now have ended, or until `until` (epoch ms); returns how many have not. */
  settle(until: number): Promise<number>;
}

/**
 * HTTP requests in progress, so shutdown can wait for them while the listener stays open
 * (and `/ready` keeps answering 503). Socket.io's long-polling requests are left out:
 * they last until their socket closes, which comes later.
 */
export function trackRequests(server: Server): RequestTracker {
  const open = new Set<ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/socket.io/')) return;
    open.add(res);
    res.once('close', () => open.delete(res));
  });
  return {
    async settle(until) {
      const now = [...open];
      await withDeadline(Promise.all(now.map((res) => (open.has(res) ? once(res, 'close') : undefined))), until, {
        keepAlive: true,
      });
      return now.filter((res) => open.has(res)).length;
    },
  };
}
