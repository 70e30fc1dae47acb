import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { TokenVerifier } from '../auth/tokens';
import type { OriginPolicy } from '../http/cors';
import { createSocketTracing } from '../middleware/socketio-tracing.middleware';
import type { AiBudget } from '../services/budget.service';
import type { ChatService } from '../services/chat.service';
import type { Logger } from '../utils/logger';
import { chatUserMessageHandler } from './chat.handlers';
import { createDispatch } from './dispatch';
import { userRoom } from './notifier';
import { withDeadline } from '../utils/deadline';

export interface SocketServerDeps {
  verifier: TokenVerifier;
  chat: ChatService;
  budget: AiBudget;
  logger: Logger;
  /** Browser origins allowed to connect (others are refused at the handshake). */
  allowedOrigin: OriginPolicy;
  maxConcurrentReplies?: number;
}

/** Largest socket message the app takes; a bigger one gets PAYLOAD_TOO_LARGE and the socket is closed. */
export const SOCKET_MESSAGE_LIMIT_BYTES = 64 * 1024;
/**
 * The transport's own cap: the message that crosses it is cut without a word (the
 * WebSocket closes with 1009), so it sits well above the app's limit, which can answer.
 */
export const SOCKET_TRANSPORT_LIMIT_BYTES = 1024 * 1024;

const EVENTS = new Set(['chat:user_message']);

function byteLength(data: unknown): number {
  if (typeof data === 'string')
    return data.length * 3 <= SOCKET_MESSAGE_LIMIT_BYTES ? data.length : Buffer.byteLength(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
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
    await withDeadline(Promise.allSettled([...this.pending]), deadline);
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
export function buildSocketServer(
  httpServer: HttpServer,
  { verifier, chat, budget, logger, allowedOrigin, maxConcurrentReplies = 2 }: SocketServerDeps,
) {
  const io = new Server(httpServer, {
    serveClient: false,
    maxHttpBufferSize: SOCKET_TRANSPORT_LIMIT_BYTES,
    // CORS headers serve the polling transport; a WebSocket is not subject to CORS, so
    // the Origin of every handshake is checked here as well
    cors: { origin: (origin, callback) => callback(null, origin !== undefined && allowedOrigin(origin)) },
    allowRequest: (req, callback) =>
      callback(allowedOrigin(req.headers.origin) ? null : 'origin not allowed', allowedOrigin(req.headers.origin)),
  });
  const work = new WorkTracker();
  const tracing = createSocketTracing();
  const on = createDispatch({ logger, wrap: tracing.wrap });

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
    on(
      socket,
      'chat:user_message',
      chatUserMessageHandler(socket, { chat, budget, logger, maxConcurrentReplies, work }),
    );

    // Seen before Socket.io decodes the message: the only place to answer before dropping it.
    socket.conn.on('packet', (packet: { type: string; data?: unknown }) => {
      if (packet.type !== 'message' || socket.disconnected) return;
      const bytes = byteLength(packet.data);
      if (bytes <= SOCKET_MESSAGE_LIMIT_BYTES) return;
      logger.info(
        { socketId: socket.id, bytes, limit: SOCKET_MESSAGE_LIMIT_BYTES },
        'socket message over the size limit: socket closed',
      );
      socket.emit('chat:error', {
        sessionId: null,
        code: 'PAYLOAD_TOO_LARGE',
        message: `a socket message may be at most ${SOCKET_MESSAGE_LIMIT_BYTES} bytes; this one had ${bytes}: the connection is closed`,
      });
      // the disconnect waits for the error to be written, and the message is never decoded
      socket.disconnect(true);
    });

    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event === 'string' && EVENTS.has(event)) return;
      const ack = args.at(-1);
      const error = {
        code: 'UNKNOWN_EVENT',
        message: `unknown event "${String(event).slice(0, 64)}"; events: ${[...EVENTS].join(', ')}`,
      };
      if (typeof ack === 'function') (ack as (response: unknown) => void)({ ok: false, error });
      else socket.emit('chat:error', { sessionId: null, ...error });
    });
  });

  return { io, work };
}
