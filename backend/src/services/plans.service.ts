import { and, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Database, Executor, Transaction } from '../db/client';
import { planJobs, plans, renovationSessions, type Plan, type PlanJob } from '../db/schema';
import { AppError } from '../errors/app-error';
import type { SessionsService } from './sessions.service';

export interface PlanContent {
  content: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | undefined;
}

export interface PlansService {
  /**
   * Locks the caller's session row for the rest of `tx` (NOT_FOUND when not theirs) and
   * returns the id of its job still queued or running, if any: two requests for one
   * session, even concurrent ones, then start one job between them.
   */
  openJob(tx: Transaction, userId: string, sessionId: string): Promise<string | undefined>;
  /** Records a queued job for a session (after `openJob` in the same transaction, or checked otherwise). */
  createJob(userId: string, sessionId: string, jobId: string, executor?: Executor): Promise<void>;
  markActive(jobId: string, attempt: number): Promise<void>;
  /** Stores the job's plan once, however many times the job ran; returns its id. */
  storePlan(job: { jobId: string; sessionId: string; userId: string }, plan: PlanContent): Promise<string>;
  markFailed(jobId: string, attempts: number, error: string): Promise<void>;
  /** The session's latest plan and latest job. */
  latest(userId: string, sessionId: string): Promise<{ plan: Plan | null; job: PlanJob | null }>;
}

/** How long a queued or running job may go without news before it counts as lost. */
export const OPEN_JOB_STALE_MINUTES = 15;

export function createPlansService({ db, sessions }: { db: Database; sessions: SessionsService }): PlansService {
  return {
    async openJob(tx, userId, sessionId) {
      const [session] = await tx
        .select({ id: renovationSessions.id })
        .from(renovationSessions)
        .where(and(eq(renovationSessions.id, sessionId), eq(renovationSessions.userId, userId)))
        .for('update');
      if (session === undefined) throw new AppError('NOT_FOUND', 'session not found');
      const [open] = await tx
        .select({ id: planJobs.id })
        .from(planJobs)
        .where(
          and(
            eq(planJobs.sessionId, sessionId),
            inArray(planJobs.status, ['queued', 'active']),
            // a job not heard of for this long was lost with its process (in-process queue): it does not block
            gt(planJobs.updatedAt, sql`now() - make_interval(mins => ${OPEN_JOB_STALE_MINUTES})`),
          ),
        )
        .orderBy(desc(planJobs.createdAt))
        .limit(1);
      return open?.id;
    },

    async createJob(userId, sessionId, jobId, executor) {
      if (executor === undefined) await sessions.get(userId, sessionId);
      await (executor ?? db).insert(planJobs).values({ id: jobId, sessionId, userId }).onConflictDoNothing();
    },

    async markActive(jobId, attempt) {
      await db
        .update(planJobs)
        .set({ status: 'active', attempts: attempt, updatedAt: new Date() })
        .where(eq(planJobs.id, jobId));
    },

    async storePlan({ jobId, sessionId, userId }, plan) {
      const [inserted] = await db
        .insert(plans)
        .values({
          jobId,
          sessionId,
          userId,
          content: plan.content,
          model: plan.model,
          inputTokens: plan.inputTokens,
          outputTokens: plan.outputTokens,
          costUsd: plan.costUsd ?? null,
        })
        .onConflictDoNothing({ target: plans.jobId })
        .returning({ id: plans.id });
      const planId =
        inserted?.id ?? (await db.select({ id: plans.id }).from(plans).where(eq(plans.jobId, jobId)).limit(1))[0]?.id;
      if (planId === undefined) throw new Error(`plan of job ${jobId} was neither stored nor found`);
      await db
        .update(planJobs)
        .set({ status: 'completed', planId, error: null, updatedAt: new Date() })
        .where(eq(planJobs.id, jobId));
      return planId;
    },

    async markFailed(jobId, attempts, error) {
      await db
        .update(planJobs)
        .set({ status: 'failed', attempts, error: error.slice(0, 2_000), updatedAt: new Date() })
        .where(and(eq(planJobs.id, jobId), sql`${planJobs.status} <> 'completed'`));
    },

    async latest(userId, sessionId) {
      await sessions.get(userId, sessionId);
      const [plan] = await db
        .select()
        .from(plans)
        .where(eq(plans.sessionId, sessionId))
        .orderBy(desc(plans.createdAt))
        .limit(1);
      const [job] = await db
        .select()
        .from(planJobs)
        .where(eq(planJobs.sessionId, sessionId))
        .orderBy(desc(planJobs.createdAt))
        .limit(1);
      return { plan: plan ?? null, job: job ?? null };
    },
  };
}
