import type { TokenUsage } from '../utils/ai-tracing';

/**
 * USD per million tokens, Gemini API paid tier, standard (not batch) requests, text,
 * prompts up to 200k tokens; thinking tokens bill as output.
 * Source: https://ai.google.dev/gemini-api/docs/pricing (figures as of 2026-11).
 * Longer prompts cost more on the Pro models; this table deliberately ignores that tier.
 */
export const GEMINI_PRICES_USD_PER_MILLION: Readonly<Record<string, { input: number; output: number }>> = {
  'gemini-2.5-pro': { input: 1.25, output: 10.0 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
};

// longest first, so `gemini-2.5-flash-lite-001` matches flash-lite, not flash
const MODELS = Object.keys(GEMINI_PRICES_USD_PER_MILLION).sort((a, b) => b.length - a.length);

/** Estimated cost of a call; undefined for a model the table does not know. */
export function estimateCostUsd(model: string, usage: TokenUsage): { amount: number; currency: 'USD' } | undefined {
  const name = model.replace(/^models\//, '');
  const key = MODELS.find((known) => name === known || name.startsWith(`${known}-`));
  if (key === undefined) return undefined;
  const price = GEMINI_PRICES_USD_PER_MILLION[key]!;
  const amount = (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
  return { amount: Math.round(amount * 1e9) / 1e9, currency: 'USD' };
}
