import { describe, expect, it } from 'vitest';
import { aiErrorType } from '../utils/ai-tracing';
import { usageFromLangChain } from './gemini';

describe('usageFromLangChain', () => {
  it('when Gemini thought, then thinking tokens count as output and as reasoning', () => {
    // LangChain maps candidatesTokenCount to output_tokens and keeps thoughts only in the total
    expect(usageFromLangChain({ input_tokens: 100, output_tokens: 10, total_tokens: 115 })).toEqual({ inputTokens: 100, outputTokens: 15, reasoningTokens: 5 });
  });

  it('when there is no total, then output is what LangChain reported', () => {
    expect(usageFromLangChain({ input_tokens: 3, output_tokens: 4 })).toEqual({ inputTokens: 3, outputTokens: 4, reasoningTokens: 0 });
    expect(usageFromLangChain(undefined)).toBeUndefined();
  });
});

describe('aiErrorType', () => {
  class GoogleGenerativeAIFetchError extends Error {
    constructor(readonly status?: number) {
      super('[GoogleGenerativeAI Error]: Error fetching from https://…');
    }
  }
  class GoogleGenerativeAIAbortError extends Error {}

  it.each([
    [new GoogleGenerativeAIFetchError(429), '429'],
    [new GoogleGenerativeAIFetchError(503), '503'],
    [new Error('[GoogleGenerativeAI Error]: Error fetching from http://x: fetch failed'), 'network_error'],
    [new GoogleGenerativeAIAbortError('Request aborted when reading from the stream'), 'aborted'],
    [Object.assign(new Error('x'), { name: 'AbortError' }), 'aborted'],
    [new TypeError('boom'), 'TypeError'],
    ['a string', '_OTHER'],
  ])('when the model call fails with %s, then error.type is %s', (error, type) => {
    expect(aiErrorType(error)).toBe(type);
  });
});
