import type { Server } from 'node:http';

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
