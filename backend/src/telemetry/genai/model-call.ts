import { SpanKind, context, trace, type Attributes, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '../attributes';
import { tracingFailed } from '../failure';
import { recordError } from '../span';
import { boundedMessagesJson, type GenAIMessage } from './content';
import { getConversationId } from './conversation';
import * as attr from './semconv';

export interface TokenUsage {
  inputTokens: number;
  /** Everything the model generated, thinking included (that is what is billed as output). */
  outputTokens: number;
  /** The thinking part of outputTokens, when the model reports it. */
  reasoningTokens?: number;
}

export interface AICallRequest {
  /** `gen_ai.provider.name`, e.g. `gcp.gemini`. */
  provider: string;
  /** The plan's `ai.system`, e.g. `gemini`. */
  system: string;
  model: string;
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  stream: boolean;
  /** Record prompt and reply text (gen_ai.input/output.messages). Off by default. */
  captureContent: boolean;
  /** Called only when content is captured. */
  inputMessages?: () => GenAIMessage[];
  /** The call's abort signal: a failure after it fired is an abort, whatever the SDK calls it. */
  signal?: AbortSignal | undefined;
  /** Estimated cost of a call with this usage, from a price table; undefined when the model is unknown. */
  price?: (model: string, usage: TokenUsage) => { amount: number; currency: string } | undefined;
}

export interface AICallOutcome {
  responseModel?: string | undefined;
  usage?: TokenUsage | undefined;
  finishReasons?: string[] | undefined;
  outputMessages?: (() => GenAIMessage[]) | undefined;
}

const tracer = trace.getTracer('renovation-agent-backend/genai');
export const AI_SPAN_NAME = 'ai.chat.invoke';

function startAISpan(request: AICallRequest): Span {
  const attributes: Attributes = {
    // what a sampler may look at: set at start
    [attr.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
    [attr.ATTR_GEN_AI_PROVIDER_NAME]: request.provider,
    [attr.ATTR_GEN_AI_REQUEST_MODEL]: request.model,
    [attr.ATTR_GEN_AI_REQUEST_STREAM]: request.stream,
    [attr.ATTR_AI_SYSTEM]: request.system,
    [attr.ATTR_AI_MODEL]: request.model,
  };
  if (request.temperature !== undefined) attributes[attr.ATTR_GEN_AI_REQUEST_TEMPERATURE] = request.temperature;
  if (request.maxTokens !== undefined) attributes[attr.ATTR_GEN_AI_REQUEST_MAX_TOKENS] = request.maxTokens;
  const conversationId = getConversationId(context.active());
  if (conversationId !== undefined) attributes[attr.ATTR_GEN_AI_CONVERSATION_ID] = conversationId;
  return tracer.startSpan(AI_SPAN_NAME, { kind: SpanKind.CLIENT, attributes });
}

function finishAISpan(span: Span, request: AICallRequest, outcome: AICallOutcome): void {
  try {
    const model = outcome.responseModel ?? request.model;
    span.setAttribute(attr.ATTR_GEN_AI_RESPONSE_MODEL, model);
    // usage first: if an attribute limit bites, it bites the content, not the figures
    if (outcome.usage !== undefined) {
      const { inputTokens, outputTokens, reasoningTokens } = outcome.usage;
      span.setAttributes({
        [attr.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: inputTokens,
        [attr.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: outputTokens,
        [attr.ATTR_AI_USAGE_PROMPT_TOKENS]: inputTokens,
        [attr.ATTR_AI_USAGE_COMPLETION_TOKENS]: outputTokens,
      });
      if (reasoningTokens !== undefined) span.setAttribute(attr.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, reasoningTokens);
      const cost = request.price?.(model, outcome.usage);
      if (cost !== undefined) {
        span.setAttributes({ [attr.ATTR_GEN_AI_USAGE_COST_AMOUNT]: cost.amount, [attr.ATTR_GEN_AI_USAGE_COST_CURRENCY]: cost.currency });
      }
    }
    if (outcome.finishReasons !== undefined && outcome.finishReasons.length > 0) {
      span.setAttribute(attr.ATTR_GEN_AI_RESPONSE_FINISH_REASONS, outcome.finishReasons);
    }
    if (request.captureContent) {
      if (request.inputMessages) span.setAttribute(attr.ATTR_GEN_AI_INPUT_MESSAGES, boundedMessagesJson(request.inputMessages()));
      if (outcome.outputMessages) span.setAttribute(attr.ATTR_GEN_AI_OUTPUT_MESSAGES, boundedMessagesJson(outcome.outputMessages()));
    }
  } catch (failure) {
    tracingFailed('finishAISpan', failure);
  }
}

/** A low-cardinality `error.type` for model-call failures: the HTTP status, or what kind of failure. */
export function aiErrorType(error: unknown): string {
  if (error && typeof error === 'object') {
    const { status, name, message } = error as { status?: unknown; name?: unknown; message?: unknown };
    if (typeof status === 'number') return String(status);
    const ctor = (error as { constructor?: { name?: string } }).constructor?.name;
    if (name === 'AbortError' || ctor?.includes('Abort') || (typeof message === 'string' && /\babort/i.test(message))) return 'aborted';
    if (typeof message === 'string' && /fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|network/i.test(message)) return 'network_error';
    if (ctor && ctor !== 'Error' && ctor !== 'Object') return ctor;
  }
  return '_OTHER';
}

function failAISpan(span: Span, error: unknown, signal?: AbortSignal): void {
  recordError(span, error);
  try {
    span.setAttribute(ATTR_ERROR_TYPE, signal?.aborted ? 'aborted' : aiErrorType(error));
  } catch (failure) {
    tracingFailed('failAISpan', failure);
  }
  span.end();
}

/**
 * Traces one model call: an `ai.chat.invoke` CLIENT span (GenAI conventions plus the
 * plan's names) that is the active context while `call` runs, so the HTTP request to
 * the provider is its child and carries its `traceparent`.
 */
export async function traceAICall<T>(request: AICallRequest, call: () => Promise<T>, read: (result: T) => AICallOutcome): Promise<T> {
  const span = startAISpan(request);
  let result: T;
  try {
    result = await context.with(trace.setSpan(context.active(), span), call);
  } catch (error) {
    failAISpan(span, error, request.signal);
    throw error;
  }
  let outcome: AICallOutcome = {};
  try {
    outcome = read(result);
  } catch (failure) {
    // an unreadable result still ends the span
    tracingFailed('traceAICall.read', failure);
  }
  finishAISpan(span, request, outcome);
  span.end();
  return result;
}

/** What one streamed chunk adds: usage deltas are summed, the last finish reason wins. */
export interface ChunkOutcome {
  usage?: TokenUsage | undefined;
  finishReason?: string | undefined;
  responseModel?: string | undefined;
  text?: string | undefined;
}

/**
 * Traces a streamed model call. Each step of the underlying generator runs inside the
 * span's context (the first one performs the HTTP request). Records the time to the
 * first chunk, sums usage over chunks, and ends the span however the stream ends:
 * completed, failed, or abandoned by its consumer (ERROR, `error.type=aborted`).
 */
export async function* traceAIStream<C>(
  request: AICallRequest,
  start: () => AsyncGenerator<C>,
  read: (chunk: C) => ChunkOutcome,
): AsyncGenerator<C> {
  const span = startAISpan(request);
  const spanContext = trace.setSpan(context.active(), span);
  const started = performance.now();
  let firstChunkAt: number | undefined;
  let usage: TokenUsage | undefined;
  const finishReasons: string[] = [];
  let responseModel: string | undefined;
  let text = '';
  let settled = false;
  let iterator: AsyncGenerator<C> | undefined;
  try {
    iterator = context.with(spanContext, start);
    while (true) {
      const step = await context.with(spanContext, () => iterator!.next());
      if (step.done) break;
      if (firstChunkAt === undefined) {
        firstChunkAt = performance.now();
        span.setAttribute(attr.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, (firstChunkAt - started) / 1000);
      }
      try {
        const outcome = read(step.value);
        if (outcome.usage !== undefined) {
          usage = {
            inputTokens: (usage?.inputTokens ?? 0) + outcome.usage.inputTokens,
            outputTokens: (usage?.outputTokens ?? 0) + outcome.usage.outputTokens,
            ...(outcome.usage.reasoningTokens !== undefined || usage?.reasoningTokens !== undefined
              ? { reasoningTokens: (usage?.reasoningTokens ?? 0) + (outcome.usage.reasoningTokens ?? 0) }
              : {}),
          };
        }
        if (outcome.finishReason !== undefined) finishReasons.push(outcome.finishReason);
        responseModel = outcome.responseModel ?? responseModel;
        if (request.captureContent && outcome.text) text += outcome.text;
      } catch (failure) {
        // a chunk we cannot read is still passed on
        tracingFailed('traceAIStream.read', failure);
      }
      yield step.value;
    }
    settled = true;
    finishAISpan(span, request, {
      responseModel,
      usage,
      finishReasons,
      outputMessages: () => [{ role: 'assistant', parts: [{ type: 'text', content: text }], ...(finishReasons.length ? { finish_reason: finishReasons.at(-1)! } : {}) }],
    });
    span.end();
  } catch (error) {
    settled = true;
    finishAISpan(span, request, { responseModel, usage, finishReasons });
    failAISpan(span, error, request.signal);
    throw error;
  } finally {
    if (!settled) {
      // the consumer stopped reading: close the upstream stream and say so
      finishAISpan(span, request, { responseModel, usage, finishReasons });
      const abandoned = new Error('the stream was abandoned before it ended');
      abandoned.name = 'AbortError';
      failAISpan(span, abandoned);
      await iterator?.return?.(undefined as never).catch(() => undefined);
    }
  }
}
