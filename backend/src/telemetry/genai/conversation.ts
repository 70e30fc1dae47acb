import { createContextKey, type Context } from '@opentelemetry/api';

const CONVERSATION_ID = createContextKey('renovation-agent.gen_ai.conversation.id');

/** The conversation (renovation session) every agent span below this context belongs to. */
export function setConversationId(ctx: Context, conversationId: string): Context {
  return ctx.setValue(CONVERSATION_ID, conversationId);
}

export function getConversationId(ctx: Context): string | undefined {
  return ctx.getValue(CONVERSATION_ID) as string | undefined;
}
