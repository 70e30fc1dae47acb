import type { Socket } from 'socket.io';
import { z } from 'zod';
import { toAgentError } from '../agent/errors';
import { AppError } from '../errors/app-error';
import { isBudgetRefusal, type AiBudget } from '../services/budget.service';
import type { ChatService } from '../services/chat.service';
import { ATTR_ERROR_TYPE, annotateActiveSpan } from '../telemetry';
import type { Logger } from '../utils/logger';
import type { Reply } from './dispatch';

export const userMessageSchema = z.strictObject({
  sessionId: z.uuid({ message: 'sessionId must be a UUID' }),
  content: z.string().trim().min(1, 'content must not be empty').max(4_000, 'content must be at most 4000 characters'),
});

export interface ChatHandlerDeps {
  chat: ChatService;
  budget: AiBudget;
  logger: Logger;
  /** Replies a socket may have in progress at once. */
  maxConcurrentReplies: number;
  /** Tracks work for graceful shutdown; refuses new work while draining. */
  work: { isDraining(): boolean; track<T>(promise: Promise<T>): Promise<T> };
}

/**
 * `chat:user_message {sessionId, content}` with an optional ack: `{ok:true, messageId}`
 * once the user's message is stored; then `chat:assistant_chunk` while the model
 * streams, `chat:assistant_message` with the stored reply and its usage, or
 * `chat:error {sessionId, code, message}`. Errors before the ack are thrown and become
 * `{ok:false, error}` (see dispatch.ts); the socket always stays usable.
 */
export function chatUserMessageHandler(
  socket: Socket,
  { chat, budget, logger, maxConcurrentReplies, work }: ChatHandlerDeps,
) {
  let inProgress = 0;
  const abort = new AbortController();
  // a plain abort (an AbortError): the Gemini SDK reports a custom reason as a stream failure
  socket.once('disconnect', () => abort.abort());

  return async function onUserMessage(payload: unknown, reply: Reply): Promise<void> {
    const userId = socket.data.userId as string;
    if (work.isDraining())
      throw new AppError('SERVICE_UNAVAILABLE', 'the server is restarting; send the message again in a moment');
    const input = userMessageSchema.parse(payload);
    if (inProgress >= maxConcurrentReplies)
      throw new AppError('RATE_LIMITED', 'wait for the current reply before sending another message');
    inProgress += 1;
    try {
      await work.track(
        (async () => {
          const { messageId } = await chat.storeUserMessage(userId, input);
          reply.ack({ ok: true, messageId });
          try {
            await budget.assertWithin(userId);
            const reply = await chat.answer({
              userId,
              sessionId: input.sessionId,
              signal: abort.signal,
              onDelta: (delta, assistantId) =>
                socket.emit('chat:assistant_chunk', { sessionId: input.sessionId, messageId: assistantId, delta }),
            });
            socket.emit('chat:assistant_message', {
              sessionId: input.sessionId,
              messageId: reply.id,
              content: reply.content,
              usage: { inputTokens: reply.usage.inputTokens, outputTokens: reply.usage.outputTokens },
            });
          } catch (error) {
            if (abort.signal.aborted) {
              // a client that leaves mid-reply is ordinary: nobody to tell, nothing failed
              logger.info(
                { sessionId: input.sessionId, user_id: userId },
                'chat reply cancelled: the client disconnected',
              );
              return;
            }
            const appError = toAgentError(error);
            reply.error(input.sessionId, appError);
            if (isBudgetRefusal(appError)) {
              annotateActiveSpan({ [ATTR_ERROR_TYPE]: appError.code });
              logger.warn(
                { code: appError.code, sessionId: input.sessionId, user_id: userId, ...appError.details },
                'AI budget exceeded: reply refused',
              );
            } else {
              logger.warn({ err: error, code: appError.code, sessionId: input.sessionId }, 'chat reply failed');
            }
            // thrown on, so the event's span and metric record the failure; the client has been told
            throw appError;
          }
        })(),
      );
    } finally {
      inProgress -= 1;
    }
  };
}
