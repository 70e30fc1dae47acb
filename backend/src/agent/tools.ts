import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import type { RunnableConfig } from '@langchain/core/runnables';
import { and, count, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/client';
import { findOwnedSession } from '../db/sessions';
import { messages, renovationPrices, renovationSessions } from '../db/schema';
import { runInTraceOf, toolTraceMetadata } from '../utils/ai-tracing';

export const ROOMS = [
  'kitchen',
  'bathroom',
  'bedroom',
  'living_room',
  'hallway',
  'basement',
  'attic',
  'garage',
  'roof',
] as const;
export const FINISHES = ['basic', 'standard', 'premium'] as const;
const INT4_MAX = 2_147_483_647;

/** Who the agent works for: set by the chat service in `configurable`, never by the model. */
function owner(config: RunnableConfig | undefined): { sessionId: string; userId: string } {
  const { sessionId, userId } = (config?.configurable ?? {}) as { sessionId?: unknown; userId?: unknown };
  if (typeof sessionId !== 'string' || typeof userId !== 'string')
    throw new Error('the tool was called outside a chat session');
  return { sessionId, userId };
}

/** Runs a tool body inside its `execute_tool` span, so its SQL nests under it. */
function inToolSpan<I, O>(fn: (input: I, config: RunnableConfig | undefined) => Promise<O>) {
  return (input: I, config?: RunnableConfig) => runInTraceOf(config, () => fn(input, config));
}

/** A tool's fields, its description also given to its span (`gen_ai.tool.description`). */
function described<F extends { description: string }>(fields: F): F & { metadata: Record<string, unknown> } {
  return { ...fields, metadata: toolTraceMetadata(fields.description) };
}

/**
 * The agent's tools. They read and write PostgreSQL, always scoped to the caller's own
 * session. Schemas stay within what Gemini's function declarations accept (no
 * exclusive bounds): ranges are checked in the body, and a failure goes back to the
 * model as a tool error.
 */
export function createAgentTools({ db }: { db: Database }): StructuredToolInterface[] {
  async function loadSession(sessionId: string, userId: string) {
    const session = await findOwnedSession(db, userId, sessionId);
    if (session === undefined) throw new Error('session not found');
    return session;
  }

  const getSessionDetails = tool(
    inToolSpan(async (_input: Record<string, never>, config) => {
      const { sessionId, userId } = owner(config);
      const session = await loadSession(sessionId, userId);
      const [row] = await db.select({ total: count() }).from(messages).where(eq(messages.sessionId, sessionId));
      return JSON.stringify({
        title: session.title,
        description: session.description,
        budgetCents: session.budgetCents,
        messageCount: row?.total ?? 0,
      });
    }),
    described({
      name: 'get_session_details',
      description:
        'Reads the renovation project: its title, description, budget (in euro cents) and how many messages it has.',
      schema: z.object({}),
    }),
  );

  const estimateRenovationCost = tool(
    inToolSpan(
      async (
        input: { room: (typeof ROOMS)[number]; areaSqm: number; finish?: (typeof FINISHES)[number] | undefined },
        config,
      ) => {
        const { sessionId, userId } = owner(config);
        if (!(input.areaSqm > 0 && input.areaSqm <= 10_000))
          throw new Error('areaSqm must be more than 0 and at most 10000');
        const finish = input.finish ?? 'standard';
        const [price] = await db
          .select()
          .from(renovationPrices)
          .where(and(eq(renovationPrices.room, input.room), eq(renovationPrices.finish, finish)))
          .limit(1);
        if (price === undefined) throw new Error(`no price for ${input.room} (${finish})`);
        const session = await loadSession(sessionId, userId);
        const totalCents = Math.round(input.areaSqm * price.costPerSqmCents + price.fixedCostCents);
        return JSON.stringify({
          room: input.room,
          finish,
          areaSqm: input.areaSqm,
          perSqmCents: price.costPerSqmCents,
          fixedCents: price.fixedCostCents,
          totalCents,
          currency: price.currency,
          budgetCents: session.budgetCents,
          withinBudget: session.budgetCents === null ? null : totalCents <= session.budgetCents,
        });
      },
    ),
    described({
      name: 'estimate_renovation_cost',
      description:
        "Estimates the cost of renovating a room from the app's price table (labour and materials, euros), and compares it with the project's budget.",
      schema: z.object({
        room: z.enum(ROOMS).describe('The room or part of the house.'),
        areaSqm: z.number().describe('Floor area in square metres.'),
        finish: z.enum(FINISHES).optional().describe('Quality of the finish; standard when not said.'),
      }),
    }),
  );

  const updateSessionBudget = tool(
    inToolSpan(async (input: { budgetCents: number }, config) => {
      const { sessionId, userId } = owner(config);
      if (!Number.isInteger(input.budgetCents) || input.budgetCents < 0 || input.budgetCents > INT4_MAX) {
        throw new Error('budgetCents must be a whole number of cents between 0 and 2147483647');
      }
      const updated = await db
        .update(renovationSessions)
        .set({ budgetCents: input.budgetCents, updatedAt: new Date() })
        .where(and(eq(renovationSessions.id, sessionId), eq(renovationSessions.userId, userId)))
        .returning({ budgetCents: renovationSessions.budgetCents });
      if (updated.length === 0) throw new Error('session not found');
      return JSON.stringify({ budgetCents: updated[0]!.budgetCents });
    }),
    described({
      name: 'update_session_budget',
      description: "Sets the project's total budget when the user states one.",
      schema: z.object({ budgetCents: z.number().describe('The new total budget in euro cents.') }),
    }),
  );

  return [getSessionDetails, estimateRenovationCost, updateSessionBudget];
}
