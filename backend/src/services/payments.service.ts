import type { Database, Executor } from '../db/client';
import { payments, type Payment } from '../db/schema';
import type { SessionsService } from './sessions.service';

export interface NewPayment {
  sessionId: string;
  amountCents: number;
  currency: string;
}

export interface PaymentsService {
  /** Records a payment for one of the caller's sessions (NOT_FOUND otherwise), in `executor`'s transaction if given. */
  create(userId: string, input: NewPayment, executor?: Executor): Promise<Pick<Payment, 'id' | 'status'>>;
}

export function createPaymentsService({ db, sessions }: { db: Database; sessions: SessionsService }): PaymentsService {
  return {
    async create(userId, input, executor = db) {
      await sessions.get(userId, input.sessionId);
      const [payment] = await executor
        .insert(payments)
        .values({ sessionId: input.sessionId, userId, amountCents: input.amountCents, currency: input.currency })
        .returning({ id: payments.id, status: payments.status });
      if (payment === undefined) throw new Error('insert returned no row');
      return payment;
    },
  };
}
