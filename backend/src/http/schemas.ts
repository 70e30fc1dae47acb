import { z } from 'zod';
import { AppError } from '../errors/app-error';

const INT4_MAX = 2_147_483_647;

export const sessionIdSchema = z.uuid({ message: 'sessionId must be a UUID' });

export const createSessionSchema = z.strictObject({
  title: z.string().trim().min(1, 'title must not be empty').max(200, 'title must be at most 200 characters'),
  description: z.string().max(5_000, 'description must be at most 5000 characters').optional(),
  budgetCents: z.number().int('budgetCents must be an integer').min(0, 'budgetCents must be >= 0').max(INT4_MAX).optional(),
});

export const listSessionsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const createPaymentSchema = z.strictObject({
  sessionId: sessionIdSchema,
  amountCents: z.number().int('amountCents must be an integer').positive('amountCents must be > 0').max(INT4_MAX),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'currency must be a 3-letter ISO 4217 code')
    .transform((code) => code.toUpperCase()),
});

/** A JSON object body: anything else (no body, an array, a string) is a clear 400. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('VALIDATION_FAILED', 'the request body must be a JSON object');
  }
  return schema.parse(body);
}
