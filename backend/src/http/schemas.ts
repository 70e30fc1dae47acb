import { z } from 'zod';
import { AppError } from '../errors/app-error';

const INT4_MAX = 2_147_483_647;

export const sessionIdSchema = z.uuid({ message: 'sessionId must be a UUID' });

export const createSessionSchema = z.strictObject({
  title: z.string().trim().min(1, 'title must not be empty').max(200, 'title must be at most 200 characters'),
  description: z.string().max(5_000, 'description must be at most 5000 characters').optional(),
  budgetCents: z
    .number(`budgetCents must be an integer number of cents from 0 to ${INT4_MAX}`)
    .int(`budgetCents must be an integer number of cents from 0 to ${INT4_MAX}`)
    .min(0, `budgetCents must be an integer number of cents from 0 to ${INT4_MAX}`)
    .max(INT4_MAX, `budgetCents must be an integer number of cents from 0 to ${INT4_MAX}`)
    .optional(),
});

export const listSessionsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

// ISO 4217 codes as the runtime's ICU knows them (current currencies, no test or fund codes).
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
const AMOUNT_RANGE = `an integer number of cents from 1 to ${INT4_MAX}`;

export const createPaymentSchema = z.strictObject({
  sessionId: sessionIdSchema,
  amountCents: z
    .number(`amountCents must be ${AMOUNT_RANGE}`)
    .int(`amountCents must be ${AMOUNT_RANGE}`)
    .min(1, `amountCents must be ${AMOUNT_RANGE}`)
    .max(INT4_MAX, `amountCents must be ${AMOUNT_RANGE}`),
  currency: z
    .string('currency must be an ISO 4217 code such as EUR or USD')
    .transform((code) => code.toUpperCase())
    .refine((code) => CURRENCIES.has(code), 'currency must be an ISO 4217 code such as EUR or USD'),
});

/** A JSON object body: anything else (no body, an array, a string) is a clear 400. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('VALIDATION_FAILED', 'the request body must be a JSON object');
  }
  return schema.parse(body);
}
