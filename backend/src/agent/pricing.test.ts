import { describe, expect, it } from 'vitest';
import { estimateCostUsd } from './pricing';

describe('estimateCostUsd', () => {
  it('when gemini-2.5-flash reads 1M and writes 1M tokens, then it costs $0.30 + $2.50', () => {
    expect(estimateCostUsd('gemini-2.5-flash', { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toEqual({
      amount: 2.8,
      currency: 'USD',
    });
  });

  it('when the model is a dated version, then the family price applies, the longest name first', () => {
    expect(
      estimateCostUsd('models/gemini-2.5-flash-lite-001', { inputTokens: 1_000_000, outputTokens: 0 })?.amount,
    ).toBe(0.1);
    expect(estimateCostUsd('gemini-2.5-flash-002', { inputTokens: 1_000_000, outputTokens: 0 })?.amount).toBe(0.3);
  });

  it('when the model is unknown, then there is no estimate rather than a wrong one', () => {
    expect(estimateCostUsd('gemini-9-ultra', { inputTokens: 10, outputTokens: 10 })).toBeUndefined();
  });
});
