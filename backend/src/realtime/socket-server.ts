import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { TokenVerifier } from '../auth/tokens';
import { isReported } from '../errors/app-error';
import { toAppError } from '../errors/to-app-error';
import { createSocketTracing } from '../middleware/socketio-tracing.middleware';
import type { ChatService } from '../services/chat.service';
import type { Logger } from '../utils/logger';
import { chatUserMessageHandler } from './chat.handlers';
import { userRoom } from './notifier';

export interface SocketServerDeps {
  verifier: TokenVerifier;
  chat: ChatService;
  logger: Logger;
  maxConcurrentReplies?: number;
}

/** Chat work in progress, for shutdown: new messages are refused once draining starts. */
export class WorkTracker {
  private readonly pending = new Set<Promise<unknown>>();
  private draining = false;

  isDraining(): boolean {
    return this.draining;
  }

  track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const forget = () => this.pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Refuses new work and waits for what is in progress, until `deadline` (epoch ms). */
  async drain(deadline: number): Promise<number> {
    this.draining = true;
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now())).unref());
    await Promise.race([Promise.allSettled([...this.pending]), timeout]);
    return this.pending.size;
  }
}

function bearer(socket: Socket): string | undefined {
  const auth = socket.handshake.auth as { token?: unknown } | undefined;
  if (typeof auth?.token === 'string') return auth.token.replace(/^Bearer\s+/i, '');
  const header = socket.handshake.headers.authorization;
  return typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '') : undefined;
}

/**
 * Socket.io on the HTTP server: JWT auth in the handshake (`auth: {token}`, same token
 * as HTTP; a missing or bad one is refused with `unauthorized`), the tracing
 * middleware, and the chat events. Unstarted: it serves once the HTTP server listens.
 */
export function buildSocketServer(httpServer: HttpServer, { verifier, chat, logger, maxConcurrentReplies = 2 }: SocketServerDeps) {
  const io = new Server(httpServer, { serveClient: false, maxHttpBufferSize: 64 * 1024, cors: { origin: false } });
  const work = new WorkTracker();
  const tracing = createSocketTracing({
    onUnacknowledgedError(error, ack, socket) {
      if (isReported(error)) return;
      const appError = toAppError(error);
      if (appError.status >= 500) logger.error({ err: error, socketId: socket.id }, 'socket event failed');
      const body = { code: appError.code, message: appError.message };
      if (ack) ack({ ok: false, error: body });
      else socket.emit('chat:error', { sessionId: null, ...body });
    },
  });

  io.use(async (socket, next) => {
    const token = bearer(socket);
    try {
      if (token === undefined) throw new Error('missing token');
      socket.data.userId = await verifier.verify(token);
      next();
    } catch {
      next(new Error('unauthorized'));
    }
  });
  io.use(tracing.connection);

  io.on('connection', (socket) => {
    // server-initiated events (plan:ready) reach every socket of the user, on any instance
    void socket.join(userRoom(socket.data.userId as string));
    tracing.on(socket, 'chat:user_message', chatUserMessageHandler(socket, { chat, logger, maxConcurrentReplies, work }));
  });

  return { io, work };
}
