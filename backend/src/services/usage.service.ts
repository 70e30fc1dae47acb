import { and, eq, gte, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { messages, plans } from '../db/schema';
import type { SessionsService } from './sessions.service';

export interface UsageFigures {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  estimatedCostUsd: number;
}

/** The top-level figures are the totals of chat replies and plans; `breakdown` says which is which. */
export interface SessionUsage extends UsageFigures {
  sessionId: string;
  assistantMessages: number;
  plans: number;
  currency: 'USD';
  breakdown: {
    chat: UsageFigures & { assistantMessages: number };
    plans: UsageFigures & { plans: number };
  };
}

export interface UsageService {
  /** Tokens and estimated cost of the caller's session (NOT_FOUND when not theirs). */
  session(userId: string, sessionId: string): Promise<SessionUsage>;
  /** Tokens the user's chat replies and plans used since `since`. */
  userTokensSince(userId: string, since: Date): Promise<number>;
}

// Sums of doubles: rounded so that 0.1 + 0.2 does not show as 0.30000000000000004.
const roundUsd = (value: number) => Math.round(value * 1e9) / 1e9;

function figures(row: { inputTokens: number; outputTokens: number; costUsd: number } | undefined): UsageFigures {
  const { inputTokens = 0, outputTokens = 0, costUsd = 0 } = row ?? {};
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, estimatedCostUsd: roundUsd(costUsd) };
}

export function createUsageService({ db, sessions }: { db: Database; sessions: SessionsService }): UsageService {
  const sums = (table: typeof messages | typeof plans) => ({
    inputTokens: sql<number>`coalesce(sum(${table.inputTokens}), 0)`.mapWith(Number),
    outputTokens: sql<number>`coalesce(sum(${table.outputTokens}), 0)`.mapWith(Number),
    costUsd: sql<number>`coalesce(sum(${table.costUsd}), 0)`.mapWith(Number),
  });

  return {
    async session(userId, sessionId) {
      await sessions.get(userId, sessionId);
      const [chatRow] = await db
        .select({ count: sql<number>`count(*)`.mapWith(Number), ...sums(messages) })
        .from(messages)
        .where(and(eq(messages.sessionId, sessionId), eq(messages.role, 'assistant')));
      const [planRow] = await db
        .select({ count: sql<number>`count(*)`.mapWith(Number), ...sums(plans) })
        .from(plans)
        .where(eq(plans.sessionId, sessionId));
      const chat = figures(chatRow);
      const planned = figures(planRow);
      const total = figures({
        inputTokens: chat.inputTokens + planned.inputTokens,
        outputTokens: chat.outputTokens + planned.outputTokens,
        costUsd: chat.estimatedCostUsd + planned.estimatedCostUsd,
      });
      return {
        sessionId,
        assistantMessages: chatRow?.count ?? 0,
        plans: planRow?.count ?? 0,
        ...total,
        currency: 'USD',
        breakdown: {
          chat: { assistantMessages: chatRow?.count ?? 0, ...chat },
          plans: { plans: planRow?.count ?? 0, ...planned },
        },
      };
    },

    async userTokensSince(userId, since) {
      const tokens = sql<number>`coalesce(sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)), 0)`.mapWith(
        Number,
      );
      const [chat] = await db
        .select({ tokens })
        .from(messages)
        .where(and(eq(messages.userId, userId), eq(messages.role, 'assistant'), gte(messages.createdAt, since)));
      const [planned] = await db
        .select({ tokens })
        .from(plans)
        .where(and(eq(plans.userId, userId), gte(plans.createdAt, since)));
      return (chat?.tokens ?? 0) + (planned?.tokens ?? 0);
    },
  };
}
