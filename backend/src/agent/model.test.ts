import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genAISchemaErrors } from '../../testing/genai-schemas';
import { startGeminiStandIn, type GeminiStandIn } from '../dev/gemini-stand-in/server';
import { aiErrorType } from '../utils/ai-tracing';
import { createChatModel, finishReasonFromGemini, serverOf, usageFromLangChain } from './model';
import { retryAfterSeconds } from './gemini-client';

describe('usageFromLangChain', () => {
  it('when Gemini thought, then thinking tokens count as output and as reasoning', () => {
    // LangChain maps candidatesTokenCount to output_tokens and keeps thoughts only in the total
    expect(usageFromLangChain({ input_tokens: 100, output_tokens: 10, total_tokens: 115 })).toEqual({
      inputTokens: 100,
      outputTokens: 15,
      reasoningTokens: 5,
    });
  });

  it('when there is no total, then output is what LangChain reported', () => {
    expect(usageFromLangChain({ input_tokens: 3, output_tokens: 4 })).toEqual({
      inputTokens: 3,
      outputTokens: 4,
      reasoningTokens: 0,
    });
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

describe('finishReasonFromGemini', () => {
  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_call'],
    ['MAX_TOKENS', false, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['MALFORMED_FUNCTION_CALL', false, 'error'],
    ['OTHER', false, 'other'],
  ])('when Gemini says %s (tool called: %s), then the conventions say %s', (reason, calledTools, expected) => {
    expect(finishReasonFromGemini(reason, calledTools)).toBe(expected);
  });
});

describe('serverOf', () => {
  it('when no base URL is set, then the spans name the Gemini API host on 443', () => {
    expect(serverOf(undefined)).toEqual({ address: 'generativelanguage.googleapis.com', port: 443 });
  });

  it('when a proxy or the stand-in is the base, then its host and port are named', () => {
    expect(serverOf('http://127.0.0.1:41234')).toEqual({ address: '127.0.0.1', port: 41234 });
    expect(serverOf('http://gemini-proxy')).toEqual({ address: 'gemini-proxy', port: 80 });
  });
});

describe('retryAfterSeconds', () => {
  it('when Gemini sends a RetryInfo detail, then its delay is the wait', () => {
    const error = {
      status: 429,
      errorDetails: [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure' },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' },
      ],
    };
    expect(retryAfterSeconds(error)).toBe(1.5);
  });

  it('when only the message says it, then the message is read; otherwise there is no wait', () => {
    expect(retryAfterSeconds({ message: 'Quota exceeded. Please retry in 37.2s.' })).toBe(37.2);
    expect(retryAfterSeconds({ message: 'Resource has been exhausted (e.g. check quota).' })).toBeUndefined();
    expect(retryAfterSeconds(undefined)).toBeUndefined();
  });
});

describe('the traced model without streaming (in process, stand-in over HTTP)', () => {
  const exporter = new InMemorySpanExporter();
  let gemini: GeminiStandIn;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
    gemini = await startGeminiStandIn({ chunkDelayMs: 0 });
  });

  afterAll(async () => {
    await gemini.close();
    trace.disable();
    context.disable();
  });

  it('when the model asks for a tool, then the span records the call as output with finish_reason tool_call', async () => {
    exporter.reset();
    const model = createChatModel({
      model: 'gemini-2.5-flash',
      temperature: 0,
      maxOutputTokens: 64,
      apiKey: 'k',
      baseUrl: gemini.baseUrl,
      maxRetries: 0,
      captureContent: true,
    });
    gemini.enqueue({ functionCalls: [{ name: 'estimate_renovation_cost', args: { room: 'attic', areaSqm: 20 } }] });
    const reply = await model.invoke([new SystemMessage('Be brief.'), new HumanMessage('How much for a 20 m2 attic?')]);
    const [span] = exporter.getFinishedSpans();
    expect(span!.name).toBe('chat gemini-2.5-flash');
    expect(span!.attributes['gen_ai.request.stream']).toBeUndefined();
    expect(span!.attributes).toMatchObject({
      'gen_ai.response.model': 'gemini-2.5-flash-preview-06-17',
      'gen_ai.response.id': gemini.requests.at(-1)!.responseId,
      'gen_ai.response.finish_reasons': ['tool_call'],
    });
    const captured = [
      ['system', 'gen_ai.system_instructions'],
      ['input', 'gen_ai.input.messages'],
      ['output', 'gen_ai.output.messages'],
    ] as const;
    for (const [schema, name] of captured) {
      expect(genAISchemaErrors(schema, span!.attributes[name]), name).toEqual([]);
    }
    expect(JSON.parse(span!.attributes['gen_ai.system_instructions'] as string)).toEqual([
      { type: 'text', content: 'Be brief.' },
    ]);
    expect(JSON.parse(span!.attributes['gen_ai.input.messages'] as string)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'How much for a 20 m2 attic?' }] },
    ]);
    const callId = (reply as { tool_calls?: Array<{ id?: string }> }).tool_calls?.[0]?.id;
    expect(JSON.parse(span!.attributes['gen_ai.output.messages'] as string)).toEqual([
      {
        role: 'assistant',
        parts: [
          {
            type: 'tool_call',
            id: callId,
            name: 'estimate_renovation_cost',
            arguments: { room: 'attic', areaSqm: 20 },
          },
        ],
        finish_reason: 'tool_call',
      },
    ]);
  });
});
