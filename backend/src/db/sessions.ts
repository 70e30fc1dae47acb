import { and, eq } from 'drizzle-orm';
import type { Database } from './client';
import { renovationSessions, type RenovationSession } from './schema';

/**
 * The caller's renovation session, or undefined when it does not exist or belongs to
 * someone else (the two are not told apart, so ids do not leak): the one ownership query
 * the HTTP API and the agent's tools share.
 */
export async function findOwnedSession(
  db: Database,
  userId: string,
  sessionId: string,
): Promise<RenovationSession | undefined> {
  const [session] = await db
    .select()
    .from(renovationSessions)
    .where(and(eq(renovationSessions.id, sessionId), eq(renovationSessions.userId, userId)))
    .limit(1);
  return session;
}
