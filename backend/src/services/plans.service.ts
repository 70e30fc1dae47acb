import { and, desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { planJobs, plans, type Plan, type PlanJob } from '../db/schema';
import type { SessionsService } from './sessions.service';

export interface PlanContent {
  content: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | undefined;
}

export interface PlansService {
  /** Records a queued job for one of the caller's sessions (NOT_FOUND otherwise). */
  createJob(userId: string, sessionId: string, jobId: string): Promise<void>;
  markActive(jobId: string, attempt: number): Promise<void>;
  /** Stores the job's plan once, however many times the job ran; returns its id. */
  storePlan(job: { jobId: string; sessionId: string; userId: string }, plan: PlanContent): Promise<string>;
  markFailed(jobId: string, attempts: number, error: string): Promise<void>;
  /** The session's latest plan and latest job. */
  latest(userId: string, sessionId: string): Promise<{ plan: Plan | null; job: PlanJob | null }>;
}

export function createPlansService({ db, sessions }: { db: Database; sessions: SessionsService }): PlansService {
  return {
    async createJob(userId, sessionId, jobId) {
      await sessions.get(userId, sessionId);
      await db.insert(planJobs).values({ id: jobId, sessionId, userId }).onConflictDoNothing();
    },

    async markActive(jobId, attempt) {
      await db.update(planJobs).set({ status: 'active', attempts: attempt, updatedAt: new Date() }).where(eq(planJobs.id, jobId));
    },

    async storePlan({ jobId, sessionId, userId }, plan) {
      const [inserted] = await db
        .insert(plans)
        .values({ jobId, sessionId, userId, content: plan.content, model: plan.model, inputTokens: plan.inputTokens, outputTokens: plan.outputTokens, costUsd: plan.costUsd ?? null })
        .onConflictDoNothing({ target: plans.jobId })
        .returning({ id: plans.id });
      const planId = inserted?.id ?? (await db.select({ id: plans.id }).from(plans).where(eq(plans.jobId, jobId)).limit(1))[0]?.id;
      if (planId === undefined) throw new Error(`plan of job ${jobId} was neither stored nor found`);
      await db.update(planJobs).set({ status: 'completed', planId, error: null, updatedAt: new Date() }).where(eq(planJobs.id, jobId));
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
      const [plan] = await db.select().from(plans).where(eq(plans.sessionId, sessionId)).orderBy(desc(plans.createdAt)).limit(1);
      const [job] = await db.select().from(planJobs).where(eq(planJobs.sessionId, sessionId)).orderBy(desc(planJobs.createdAt)).limit(1);
      return { plan: plan ?? null, job: job ?? null };
    },
  };
}
