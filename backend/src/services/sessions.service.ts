import { asc, desc, eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { findOwnedSession } from '../db/sessions';
import { messages, renovationSessions, type Message, type RenovationSession } from '../db/schema';
import { AppError } from '../errors/app-error';

export interface NewSession {
  title: string;
  description?: string | undefined;
  budgetCents?: number | undefined;
}

export type SessionWithMessages = RenovationSession & { messages: Message[] };

export interface SessionsService {
  create(userId: string, input: NewSession): Promise<RenovationSession>;
  list(userId: string, limit: number): Promise<RenovationSession[]>;
  /** The caller's session; NOT_FOUND when it does not exist or belongs to someone else. */
  get(userId: string, sessionId: string): Promise<RenovationSession>;
  getWithMessages(userId: string, sessionId: string): Promise<SessionWithMessages>;
}

export function createSessionsService({ db }: { db: Database }): SessionsService {
  async function get(userId: string, sessionId: string): Promise<RenovationSession> {
    const session = await findOwnedSession(db, userId, sessionId);
    // Someone else's session is reported exactly like a missing one: ids do not leak.
    if (session === undefined) throw new AppError('NOT_FOUND', 'session not found');
    return session;
  }

  return {
    async create(userId, input) {
      const [session] = await db
        .insert(renovationSessions)
        .values({
          userId,
          title: input.title,
          description: input.description ?? null,
          budgetCents: input.budgetCents ?? null,
        })
        .returning();
      if (session === undefined) throw new Error('insert returned no row');
      return session;
    },

    list(userId, limit) {
      return db
        .select()
        .from(renovationSessions)
        .where(eq(renovationSessions.userId, userId))
        .orderBy(desc(renovationSessions.createdAt))
        .limit(limit);
    },

    get,

    async getWithMessages(userId, sessionId) {
      const session = await get(userId, sessionId);
      const history = await db
        .select()
        .from(messages)
        .where(eq(messages.sessionId, sessionId))
        .orderBy(asc(messages.createdAt), asc(messages.id));
      return { ...session, messages: history };
    },
  };
}
