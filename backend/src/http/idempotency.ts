import type { Request, Response } from 'express';
import { AppError } from '../errors/app-error';
import type { ReplayableAnswer } from '../services/idempotency.service';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Says that an answer is the stored first answer to this key (Stripe's name for it). */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

// Visible ASCII without spaces, commas or quotes, as a header value survives every proxy;
// long enough for a UUID, a ULID or a client's own composite key.
const KEY = /^[A-Za-z0-9._:~+/=-]{1,255}$/;

/** The request's `Idempotency-Key`, validated; undefined without one. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const value = req.headers[IDEMPOTENCY_KEY_HEADER];
  if (value === undefined) return undefined;
  if (Array.isArray(value) || !KEY.test(value)) {
    throw new AppError(
      'VALIDATION_FAILED',
      'Idempotency-Key must be 1..255 characters of letters, digits and . _ : ~ + / = - (a UUID is a good key), sent once',
    );
  }
  return value;
}

/** Sends an answer that went through the idempotency store. */
export function sendAnswer(res: Response, answer: ReplayableAnswer): void {
  if (answer.replayed) res.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
  res.status(answer.status).json(answer.body);
}
