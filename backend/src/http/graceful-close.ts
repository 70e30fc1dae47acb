import { once } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Stops accepting connections and waits for in-flight requests. Idle keep-alive
 * connections are closed as they become idle (responses during shutdown also carry
 * `Connection: close`); whatever is still open at `forceAt` is cut.
 */
export async function closeGracefully(server: Server, { forceAt }: { forceAt: number }): Promise<{ forced: boolean }> {
  if (!server.listening) return { forced: false };
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, forceAt - Date.now()));
  });
  try {
    if ((await Promise.race([closed, timeout])) !== 'timeout') return { forced: false };
    server.closeAllConnections();
    await closed;
    return { forced: true };
  } finally {
    clearInterval(sweep);
    clearTimeout(timer);
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
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, until - Date.now()));
      });
      try {
        await Promise.race([Promise.all(now.map((res) => (open.has(res) ? once(res, 'close') : undefined))), timeout]);
      } finally {
        clearTimeout(timer);
      }
      return now.filter((res) => open.has(res)).length;
    },
  };
}
