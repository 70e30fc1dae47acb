import type { Socket } from 'socket.io';
import { reportError } from '../errors/report';
import type { Logger } from '../utils/logger';

/** How a handler answers its client: at most one acknowledgement, and `chat:error` once it has acked. */
export interface Reply {
  /** The acknowledgement, when the client asked for one; later calls are ignored. */
  ack(response: unknown): void;
  /** Whether the client asked for an acknowledgement. */
  readonly wanted: boolean;
  /** Tells the client an error (`chat:error {sessionId, code, message}`); dispatch then adds nothing. */
  error(sessionId: string | null, error: { code: string; message: string }): void;
}

export type EventHandler = (payload: unknown, reply: Reply) => Promise<void>;

/** Wraps the run of one event (tracing does: a span around it); `run` settles as the handler does. */
export type EventWrapper = (socket: Socket, event: string, payload: unknown, run: () => Promise<void>) => Promise<void>;

const untraced: EventWrapper = (_socket, _event, _payload, run) => run();

/**
 * Socket.io event dispatch: the client's acknowledgement is sent at most once, and an
 * error the handler throws before telling the client anything becomes `{ok:false,error}`
 * on the ack (or `chat:error` without one), logged when it is ours (5xx). The same with
 * tracing on or off: `wrap` (the tracing) only runs the handler.
 */
export function createDispatch({ logger, wrap = untraced }: { logger: Logger; wrap?: EventWrapper }) {
  return function on(socket: Socket, event: string, handler: EventHandler): void {
    socket.on(event, (...args: unknown[]) => {
      const last = args.at(-1);
      const ack = typeof last === 'function' ? (last as (response: unknown) => void) : undefined;
      const payload = ack && args.length === 1 ? undefined : args[0];
      let told = false;
      const reply: Reply = {
        wanted: ack !== undefined,
        ack(response) {
          if (told || ack === undefined) return;
          told = true;
          ack(response);
        },
        error(sessionId, { code, message }) {
          told = true;
          if (socket.connected) socket.emit('chat:error', { sessionId, code, message });
        },
      };
      const run = async () => {
        try {
          await handler(payload, reply);
        } catch (error) {
          // in the event's context (inside `wrap`), so the log line carries its trace id
          if (!told) replyWithError(socket, reply, error, logger);
          throw error;
        }
      };
      wrap(socket, event, payload, run).catch(() => undefined);
    });
  };
}

function replyWithError(socket: Socket, reply: Reply, error: unknown, logger: Logger): void {
  const appError = reportError(logger, error, { message: 'socket event failed', fields: { socketId: socket.id } });
  const body = { code: appError.code, message: appError.message };
  if (reply.wanted) reply.ack({ ok: false, error: body });
  else reply.error(null, body);
}
