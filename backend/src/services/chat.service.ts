import { randomUUID } from 'node:crypto';
import { desc, eq } from 'drizzle-orm';
import type { Agent } from '../agent/agent';
import type { Database } from '../db/client';
import { messages } from '../db/schema';
import type { SessionsService } from './sessions.service';

export interface AssistantMessage {
  id: string;
  sessionId: string;
  content: string;
  model: string;
  usage: { inputTokens: number; outputTokens: number; reasoningTokens: number };
  costUsd: number | undefined;
}

export interface ChatService {
  /** Stores the user's message in one of their sessions (NOT_FOUND otherwise). */
  storeUserMessage(userId: string, input: { sessionId: string; content: string }): Promise<{ messageId: string }>;
  /** Answers the session's latest user message: streams deltas, stores and returns the reply. */
  answer(input: {
    userId: string;
    sessionId: string;
    signal?: AbortSignal;
    onStart?: (messageId: string) => void;
    onDelta?: (delta: string, messageId: string) => void;
  }): Promise<AssistantMessage>;
  /** The session's most recent messages, oldest first, as the agent reads them. */
  history(sessionId: string): Promise<Array<{ role: 'user' | 'assistant'; content: string }>>;
}

export function createChatService({
  db,
  sessions,
  agent,
  historyLimit,
}: {
  db: Database;
  sessions: SessionsService;
  agent: Agent;
  historyLimit: number;
}): ChatService {
  async function history(sessionId: string) {
    const recent = await db
      .select({ role: messages.role, content: messages.content })
      .from(messages)
      .where(eq(messages.sessionId, sessionId))
      .orderBy(desc(messages.createdAt), desc(messages.id))
      .limit(historyLimit);
    return recent.reverse();
  }

  return {
    history,
    async storeUserMessage(userId, { sessionId, content }) {
      await sessions.get(userId, sessionId);
      const [row] = await db
        .insert(messages)
        .values({ sessionId, userId, role: 'user', content })
        .returning({ id: messages.id });
      if (row === undefined) throw new Error('insert returned no row');
      return { messageId: row.id };
    },

    async answer({ userId, sessionId, signal, onStart, onDelta }) {
      const recent = await history(sessionId);
      const messageId = randomUUID();
      onStart?.(messageId);
      const reply = await agent.reply({
        sessionId,
        userId,
        history: recent,
        ...(signal ? { signal } : {}),
        onDelta: (delta) => onDelta?.(delta, messageId),
      });
      const usage = {
        inputTokens: reply.usage.inputTokens,
        outputTokens: reply.usage.outputTokens,
        reasoningTokens: reply.usage.reasoningTokens ?? 0,
      };
      await db.insert(messages).values({
        id: messageId,
        sessionId,
        userId,
        role: 'assistant',
        content: reply.content,
        model: reply.model,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        costUsd: reply.costUsd ?? null,
      });
      return { id: messageId, sessionId, content: reply.content, model: reply.model, usage, costUsd: reply.costUsd };
    },
  };
}
