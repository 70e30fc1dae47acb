import { AsyncResource } from 'node:async_hooks';
import path from 'node:path';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { Logger } from '../utils/logger';
import * as schema from './schema';

export type Database = NodePgDatabase<typeof schema>;
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Where a query runs: the pool, or a transaction a caller opened. */
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  /** Resolves when every client is released and closed. */
  close(): Promise<void>;
}

// Any constant works; it only has to be the same in every instance of this app.
const MIGRATION_LOCK_KEY = 7_412_990_113;
const MIGRATIONS_FOLDER = path.resolve(__dirname, '../../drizzle');

/**
 * A pool whose waiting queries resume in the async context of the caller that queued them.
 * `pool.query()` checks a client out through `connect(callback)`; when every client is busy
 * the callback waits in the pool's queue and is later called from whichever query released a
 * client, so the new query ran in *that* request's context: its span landed in another trace,
 * or in none. Binding the callback where it is queued (Node's own API for callback queues)
 * fixes it for every consumer of the context: trace, request id, log correlation.
 * (instrumentation-pg binds this callback only when it makes `pg-pool.connect` spans, which
 * we turn off with `ignoreConnectSpans`.)
 */
export class ContextPreservingPool extends pg.Pool {
  override connect(): Promise<pg.PoolClient>;
  override connect(
    callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void,
  ): void;
  override connect(
    callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void,
  ): Promise<pg.PoolClient> | undefined {
    if (callback === undefined) return super.connect();
    super.connect(AsyncResource.bind(callback));
    return undefined;
  }
}

export function createDatabase({
  connectionString,
  max,
  logger,
}: {
  connectionString: string;
  max: number;
  logger: Logger;
}): DatabaseHandle {
  const pool = new ContextPreservingPool({
    connectionString,
    max,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection emits here; unhandled it would crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection failed'));
  let closing: Promise<void> | undefined;
  return {
    db: drizzle({ client: pool, schema }),
    pool,
    close: () => (closing ??= pool.end()),
  };
}

/**
 * Applies the committed drizzle-kit migrations. An advisory lock makes concurrent
 * start-ups (several instances, parallel tests) wait for each other instead of racing.
 */
export async function runMigrations(pool: pg.Pool, logger: Logger): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
    logger.debug({ folder: MIGRATIONS_FOLDER }, 'database migrations applied');
  } finally {
    client.release();
  }
}
