import { sql } from 'drizzle-orm';
import {
  char,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};

export const renovationSessions = pgTable(
  'renovation_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: text('user_id').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    budgetCents: integer('budget_cents'),
    ...timestamps,
  },
  (table) => [
    index('renovation_sessions_user_created_idx').on(table.userId, table.createdAt),
    check('renovation_sessions_budget_check', sql`${table.budgetCents} >= 0`),
  ],
);

export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => renovationSessions.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    role: text('role', { enum: ['user', 'assistant'] }).notNull(),
    content: text('content').notNull(),
    /** For assistant messages: the model and what answering cost, summed over every model call. */
    model: text('model'),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    costUsd: doublePrecision('cost_usd'),
    ...timestamps,
  },
  (table) => [
    index('messages_session_created_idx').on(table.sessionId, table.createdAt),
    // the per-user daily AI budget sums a user's replies of the day
    index('messages_user_created_idx').on(table.userId, table.createdAt),
  ],
);

export const payments = pgTable(
  'payments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => renovationSessions.id, { onDelete: 'restrict' }),
    userId: text('user_id').notNull(),
    amountCents: integer('amount_cents').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    status: text('status', { enum: ['pending', 'succeeded', 'failed'] })
      .notNull()
      .default('pending'),
    ...timestamps,
  },
  (table) => [
    index('payments_session_idx').on(table.sessionId),
    index('payments_user_created_idx').on(table.userId, table.createdAt),
    check('payments_amount_check', sql`${table.amountCents} > 0`),
  ],
);

/** A plan-generation job: its state lives here (not only in Redis) so it survives and reads without Redis. */
export const planJobs = pgTable(
  'plan_jobs',
  {
    id: text('id').primaryKey(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => renovationSessions.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    status: text('status', { enum: ['queued', 'active', 'completed', 'failed'] })
      .notNull()
      .default('queued'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    planId: uuid('plan_id'),
    ...timestamps,
  },
  (table) => [index('plan_jobs_session_created_idx').on(table.sessionId, table.createdAt)],
);

/** A renovation plan written by the agent. One per job: a job that runs twice stores it once. */
export const plans = pgTable(
  'plans',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => renovationSessions.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    jobId: text('job_id').notNull().unique(),
    content: text('content').notNull(),
    model: text('model'),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    costUsd: doublePrecision('cost_usd'),
    ...timestamps,
  },
  (table) => [
    index('plans_session_created_idx').on(table.sessionId, table.createdAt),
    index('plans_user_created_idx').on(table.userId, table.createdAt),
  ],
);

/**
 * An `Idempotency-Key` a user sent, with the first answer to it. The primary key is what
 * makes two concurrent requests with one key produce one payment or job: the second
 * insert waits for the first transaction and then finds its row.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: text('user_id').notNull(),
    key: text('key').notNull(),
    /** sha256 of method, path and body: the same key with another request is refused. */
    fingerprint: text('fingerprint').notNull(),
    /** The first answer; written in the transaction that claimed the key, so never seen empty. */
    statusCode: integer('status_code'),
    response: jsonb('response'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.userId, table.key] }),
    index('idempotency_keys_expires_idx').on(table.expiresAt),
  ],
);

/** The price table the cost-estimate tool reads: cost per square metre by room and finish. */
export const renovationPrices = pgTable(
  'renovation_prices',
  {
    room: text('room').notNull(),
    finish: text('finish', { enum: ['basic', 'standard', 'premium'] }).notNull(),
    costPerSqmCents: integer('cost_per_sqm_cents').notNull(),
    fixedCostCents: integer('fixed_cost_cents').notNull().default(0),
    currency: char('currency', { length: 3 }).notNull().default('EUR'),
  },
  (table) => [primaryKey({ columns: [table.room, table.finish] })],
);

export type RenovationSession = typeof renovationSessions.$inferSelect;
export type Message = typeof messages.$inferSelect;
export type Payment = typeof payments.$inferSelect;
export type Plan = typeof plans.$inferSelect;
export type PlanJob = typeof planJobs.$inferSelect;
export type IdempotencyKey = typeof idempotencyKeys.$inferSelect;
