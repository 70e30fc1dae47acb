import { createHash } from 'node:crypto';
import { and, eq, lte, sql } from 'drizzle-orm';
import type { Database, Transaction } from '../db/client';
import { idempotencyKeys } from '../db/schema';
import { AppError } from '../errors/app-error';
import type { Logger } from '../utils/logger';

/** An answer as it is sent, and kept for a repeat of the same key. */
export interface StoredAnswer {
  status: number;
  body: unknown;
}

/** `replayed`: the stored first answer to the key, not a new one. */
export type ReplayableAnswer = StoredAnswer & { replayed: boolean };

export interface IdempotentRequest {
  userId: string;
  /** The `Idempotency-Key` header, already validated; undefined runs the work without one. */
  key: string | undefined;
  method: string;
  path: string;
  body: unknown;
}

export interface IdempotencyService {
  /**
   * Runs `work` in one transaction with the claim of the key, so its rows and the stored
   * answer commit together. A repeat of the key (same user, same request) gets the first
   * answer with `replayed: true` and runs nothing; a concurrent repeat waits on the key's
   * row and then gets it too. The same key for another request is IDEMPOTENCY_KEY_REUSED.
   * When `work` throws, nothing is kept: the key may be retried.
   */
  run(request: IdempotentRequest, work: (tx: Transaction) => Promise<StoredAnswer>): Promise<ReplayableAnswer>;
  /** Drops a key whose answer turned out not to hold (the job could not be queued after all). */
  forget(userId: string, key: string): Promise<void>;
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function fingerprintOf({ method, path, body }: Pick<IdempotentRequest, 'method' | 'path' | 'body'>): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonical(body)}`)
    .digest('hex');
}

const PURGE_INTERVAL_MS = 60_000;

export interface IdempotencyDeps {
  db: Database;
  /** How long a key and its answer are kept. */
  ttlSeconds: number;
  logger: Logger;
}

export function createIdempotencyService({ db, ttlSeconds, logger }: IdempotencyDeps): IdempotencyService {
  let lastPurge = 0;

  /** Expired keys go opportunistically, at most once a minute per process, off the request's path. */
  function maybePurge(): void {
    if (Date.now() - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = Date.now();
    db.delete(idempotencyKeys)
      .where(lte(idempotencyKeys.expiresAt, sql`now()`))
      .then(
        (result) => {
          if ((result.rowCount ?? 0) > 0) logger.debug({ purged: result.rowCount }, 'expired idempotency keys purged');
        },
        (error: unknown) => logger.warn({ err: error }, 'purging expired idempotency keys failed'),
      );
  }

  return {
    async run(request, work) {
      const { userId, key } = request;
      if (key === undefined) return { ...(await db.transaction(work)), replayed: false };
      maybePurge();
      const fingerprint = fingerprintOf(request);
      const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
      return db.transaction(async (tx) => {
        // A live row of another transaction makes this insert wait until that one ends;
        // an expired row is taken over as if it were not there.
        const claimed = await tx
          .insert(idempotencyKeys)
          .values({ userId, key, fingerprint, expiresAt })
          .onConflictDoUpdate({
            target: [idempotencyKeys.userId, idempotencyKeys.key],
            set: { fingerprint, statusCode: null, response: null, createdAt: sql`now()`, expiresAt },
            setWhere: sql`${idempotencyKeys.expiresAt} <= now()`,
          })
          .returning({ key: idempotencyKeys.key });
        if (claimed.length === 0) {
          const [first] = await tx
            .select()
            .from(idempotencyKeys)
            .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
          if (first === undefined || first.statusCode === null)
            throw new Error('idempotency key row vanished after its conflict');
          if (first.fingerprint !== fingerprint) {
            throw new AppError(
              'IDEMPOTENCY_KEY_REUSED',
              'this Idempotency-Key was already used for a different request; use a new key',
            );
          }
          return { status: first.statusCode, body: first.response, replayed: true };
        }
        const answer = await work(tx);
        await tx
          .update(idempotencyKeys)
          .set({ statusCode: answer.status, response: answer.body })
          .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
        return { ...answer, replayed: false };
      });
    },

    async forget(userId, key) {
      await db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
    },
  };
}
