import { AppError } from '../errors/app-error';
import type { UsageService } from './usage.service';

const DAY_MS = 86_400_000;

export interface BudgetRefusal {
  spentTokens: number;
  budgetTokens: number;
  /** Seconds until the window resets (00:00 UTC), for `Retry-After`. */
  retryAfterSeconds: number;
}

export interface AiBudget {
  /** Whether a daily budget is configured at all. */
  readonly enabled: boolean;
  /**
   * Throws AI_BUDGET_EXCEEDED (429, `Retry-After`, details: a BudgetRefusal) when the user's
   * tokens of the current UTC day have reached the budget. Checked before each chat reply
   * and each plan, so the one that crosses the line still finishes.
   */
  assertWithin(userId: string): Promise<void>;
}

export function isBudgetRefusal(error: unknown): error is AppError & { details: BudgetRefusal } {
  return error instanceof AppError && error.code === 'AI_BUDGET_EXCEEDED';
}

/** The per-user daily AI budget, counted from stored rows (replies and plans); `dailyTokens` 0 turns it off. */
export interface AiBudgetDeps {
  usage: UsageService;
  /** Tokens per user per UTC day; 0 turns the budget off. */
  dailyTokens: number;
  now?: () => number;
}

export function createAiBudget({ usage, dailyTokens, now = () => Date.now() }: AiBudgetDeps): AiBudget {
  return {
    enabled: dailyTokens > 0,
    async assertWithin(userId) {
      if (dailyTokens <= 0) return;
      const at = now();
      const dayStart = Math.floor(at / DAY_MS) * DAY_MS;
      const spentTokens = await usage.userTokensSince(userId, new Date(dayStart));
      if (spentTokens < dailyTokens) return;
      const retryAfterSeconds = Math.max(1, Math.ceil((dayStart + DAY_MS - at) / 1000));
      const details: BudgetRefusal = { spentTokens, budgetTokens: dailyTokens, retryAfterSeconds };
      throw new AppError(
        'AI_BUDGET_EXCEEDED',
        `your AI budget of ${dailyTokens} tokens a day is used up (${spentTokens} used); it resets at 00:00 UTC, in ${retryAfterSeconds} s`,
        { details, headers: { 'retry-after': String(retryAfterSeconds) } },
      );
    },
  };
}
