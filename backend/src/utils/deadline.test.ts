import { describe, expect, it } from 'vitest';
import { TIMED_OUT, withDeadline } from './deadline';

describe('withDeadline', () => {
  it('when the work settles first, then its value comes back', async () => {
    expect(await withDeadline(Promise.resolve(42), Date.now() + 60_000)).toBe(42);
  });

  it('when the deadline passes first, then TIMED_OUT comes back and the work is left running', async () => {
    const never = new Promise<number>(() => undefined);
    expect(await withDeadline(never, Date.now() + 10)).toBe(TIMED_OUT);
  });

  it('when the deadline is already past, then TIMED_OUT comes back at once', async () => {
    expect(await withDeadline(new Promise(() => undefined), Date.now() - 1_000)).toBe(TIMED_OUT);
  });

  it('when the work fails before the deadline, then its error is passed on', async () => {
    await expect(withDeadline(Promise.reject(new Error('boom')), Date.now() + 60_000)).rejects.toThrow('boom');
  });
});
