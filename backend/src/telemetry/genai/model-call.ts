import { SpanKind, context, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '../attributes';
import { tracingFailed } from '../failure';
import { recordError } from '../span';
import { recordModelCall } from '../metrics/instruments';
import { endCancelled, isCancellation } from './cancellation';
import { boundedJson, type GenAIMessage, type MessagePart } from './content';
import { getAgentRun, type AgentRunContext } from './conversation';
import { recordOf, withModelCallRecord, type ModelCallRecord } from './model-call-notes';
import * as attr from '../attributes';
import { tracerFor } from '../tracer';
import { isNetworkError } from '../../errors/network';

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
  /** `gen_ai.request.model`; also the span name's second word. */
  model: string;
  /** `server.address` / `server.port`: where the request goes (the API host, a proxy, the stand-in). */
  serverAddress?: string | undefined;
  serverPort?: number | undefined;
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  stream: boolean;
  /** Record instructions, prompt and reply (`gen_ai.system_instructions`, `gen_ai.input/output.messages`). */
  captureContent: boolean;
  /** Called only when content is captured: instructions the provider receives apart from the messages. */
  systemInstructions?: () => MessagePart[];
  /** Called only when content is captured. */
  inputMessages?: () => GenAIMessage[];
  /** The call's abort signal: a call that ends after it fired was cancelled, whatever the SDK calls it. */
  signal?: AbortSignal | undefined;
  /** Estimated cost in USD of a call with this usage, from a price table; undefined when the model is unknown. */
  price?: (model: string, usage: TokenUsage) => { amount: number; currency: 'USD' } | undefined;
}

export interface AICallOutcome {
  responseModel?: string | undefined;
  responseId?: string | undefined;
  usage?: TokenUsage | undefined;
  finishReasons?: string[] | undefined;
  outputMessages?: (() => GenAIMessage[]) | undefined;
}

const tracer = tracerFor('genai');

/** The conventions' inference span name: `{gen_ai.operation.name} {gen_ai.request.model}`. */
export const aiSpanName = (model: string): string => `chat ${model}`;

/** The agent run's request settings are those of its model calls: the first call names them. */
function noteSettingsOnRun(run: AgentRunContext, request: AICallRequest): void {
  if (run.settingsNoted) return;
  run.settingsNoted = true;
  try {
    const settings: Attributes = {};
    if (request.temperature !== undefined) settings[attr.ATTR_GEN_AI_REQUEST_TEMPERATURE] = request.temperature;
    if (request.maxTokens !== undefined) settings[attr.ATTR_GEN_AI_REQUEST_MAX_TOKENS] = request.maxTokens;
    run.span.setAttributes(settings);
  } catch (failure) {
    tracingFailed('noteSettingsOnRun', failure);
  }
}

/** What every span and metric of a model call carries: operation, provider, model, server. */
function callAttributes(request: AICallRequest): Attributes {
  const attributes: Attributes = {
    [attr.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
    [attr.ATTR_GEN_AI_PROVIDER_NAME]: request.provider,
    [attr.ATTR_GEN_AI_REQUEST_MODEL]: request.model,
  };
  if (request.serverAddress !== undefined) attributes[attr.ATTR_SERVER_ADDRESS] = request.serverAddress;
  if (request.serverPort !== undefined) attributes[attr.ATTR_SERVER_PORT] = request.serverPort;
  return attributes;
}

function startAISpan(request: AICallRequest): { span: Span; ctx: Context } {
  const run = getAgentRun(context.active());
  // what a sampler may look at is set at start (operation, provider, model, server)
  const attributes = callAttributes(request);
  // "if and only if the request is streaming"
  if (request.stream) attributes[attr.ATTR_GEN_AI_REQUEST_STREAM] = true;
  if (request.temperature !== undefined) attributes[attr.ATTR_GEN_AI_REQUEST_TEMPERATURE] = request.temperature;
  if (request.maxTokens !== undefined) attributes[attr.ATTR_GEN_AI_REQUEST_MAX_TOKENS] = request.maxTokens;
  if (run !== undefined) {
    attributes[attr.ATTR_GEN_AI_CONVERSATION_ID] = run.conversationId;
    noteSettingsOnRun(run, request);
  }
  const span = tracer.startSpan(aiSpanName(request.model), { kind: SpanKind.CLIENT, attributes });
  return { span, ctx: withModelCallRecord(trace.setSpan(context.active(), span), span) };
}

type Ending = 'success' | 'failure' | 'cancelled';

function finishAISpan(
  span: Span,
  request: AICallRequest,
  outcome: AICallOutcome,
  ending: Ending,
  record?: ModelCallRecord,
): void {
  try {
    const responseModel = outcome.responseModel ?? record?.responseModel;
    const responseId = outcome.responseId ?? record?.responseId;
    // what the provider answered, only when it did answer
    if (ending === 'success') {
      if (responseModel) span.setAttribute(attr.ATTR_GEN_AI_RESPONSE_MODEL, responseModel);
      if (responseId) span.setAttribute(attr.ATTR_GEN_AI_RESPONSE_ID, responseId);
      if (outcome.finishReasons?.length)
        span.setAttribute(attr.ATTR_GEN_AI_RESPONSE_FINISH_REASONS, outcome.finishReasons);
    }
    // usage first: if an attribute limit bites, it bites the content, not the figures
    if (outcome.usage !== undefined) {
      const { inputTokens, outputTokens, reasoningTokens } = outcome.usage;
      span.setAttribute(attr.ATTR_GEN_AI_USAGE_INPUT_TOKENS, inputTokens);
      span.setAttribute(attr.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, outputTokens);
      if (reasoningTokens !== undefined)
        span.setAttribute(attr.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, reasoningTokens);
      const cost = request.price?.(responseModel ?? request.model, outcome.usage);
      if (cost !== undefined) span.setAttribute(attr.ATTR_GEN_AI_USAGE_COST, cost.amount);
    }
    if (request.captureContent) {
      const instructions = request.systemInstructions?.() ?? [];
      if (instructions.length > 0) span.setAttribute(attr.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, boundedJson(instructions));
      if (request.inputMessages) {
        span.setAttribute(attr.ATTR_GEN_AI_INPUT_MESSAGES, boundedJson(request.inputMessages()));
      }
      if (ending === 'success' && outcome.outputMessages) {
        span.setAttribute(attr.ATTR_GEN_AI_OUTPUT_MESSAGES, boundedJson(outcome.outputMessages()));
      }
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
    if (name === 'AbortError' || ctor?.includes('Abort') || (typeof message === 'string' && /\babort/i.test(message)))
      return 'aborted';
    if (isNetworkError(error)) return 'network_error';
    if (ctor && ctor !== 'Error' && ctor !== 'Object') return ctor;
  }
  return '_OTHER';
}

/** When the call started, and (streamed) when its first chunk came: for the metrics. */
interface Timing {
  started: number;
  firstChunkAt?: number | undefined;
}

/**
 * The call's metrics, recorded for every call whether its trace is sampled or not. A cancelled
 * call (the user went away) counts its tokens and cost, which were spent, but not its duration,
 * which says nothing about the model's latency.
 */
function measureCall(
  request: AICallRequest,
  outcome: AICallOutcome,
  record: ModelCallRecord | undefined,
  ending: Ending,
  timing: Timing,
  error?: unknown,
): void {
  try {
    const responseModel = outcome.responseModel ?? record?.responseModel;
    const attributes = callAttributes(request);
    if (ending === 'success' && responseModel) attributes[attr.ATTR_GEN_AI_RESPONSE_MODEL] = responseModel;
    if (ending === 'failure') attributes[ATTR_ERROR_TYPE] = aiErrorType(error);
    const usage = outcome.usage;
    recordModelCall({
      attributes,
      durationS: ending === 'cancelled' ? undefined : (performance.now() - timing.started) / 1000,
      inputTokens: usage?.inputTokens,
      outputTokens: usage?.outputTokens,
      timeToFirstChunkS: timing.firstChunkAt !== undefined ? (timing.firstChunkAt - timing.started) / 1000 : undefined,
      costUsd: usage !== undefined ? request.price?.(responseModel ?? request.model, usage)?.amount : undefined,
    });
  } catch (failure) {
    tracingFailed('measureCall', failure);
  }
}

function endAISpan(
  span: Span,
  request: AICallRequest,
  outcome: AICallOutcome,
  record: ModelCallRecord | undefined,
  timing: Timing,
  error?: unknown,
): void {
  if (error === undefined && !request.signal?.aborted) {
    measureCall(request, outcome, record, 'success', timing);
    finishAISpan(span, request, outcome, 'success', record);
    span.end();
    return;
  }
  if (isCancellation(error, request.signal)) {
    measureCall(request, outcome, record, 'cancelled', timing);
    finishAISpan(span, request, outcome, 'cancelled', record);
    endCancelled(span);
    return;
  }
  measureCall(request, outcome, record, 'failure', timing, error);
  finishAISpan(span, request, outcome, 'failure', record);
  recordError(span, error);
  try {
    span.setAttribute(ATTR_ERROR_TYPE, aiErrorType(error));
  } catch (failure) {
    tracingFailed('endAISpan', failure);
  }
  span.end();
}

/**
 * Traces one model call: a `chat {model}` CLIENT span (GenAI conventions) that is the
 * active context while `call` runs, so the HTTP request to the provider is its child and
 * carries its `traceparent`.
 */
export async function traceAICall<T>(
  request: AICallRequest,
  call: () => Promise<T>,
  read: (result: T) => AICallOutcome,
): Promise<T> {
  const { span, ctx } = startAISpan(request);
  const record = recordOf(ctx);
  const timing: Timing = { started: performance.now() };
  let result: T;
  try {
    result = await context.with(ctx, call);
  } catch (error) {
    endAISpan(span, request, {}, record, timing, error);
    throw error;
  }
  let outcome: AICallOutcome = {};
  try {
    outcome = read(result);
  } catch (failure) {
    // an unreadable result still ends the span
    tracingFailed('traceAICall.read', failure);
  }
  endAISpan(span, request, outcome, record, timing);
  return result;
}

/** What one streamed chunk adds: usage deltas are summed, text and tool calls appended; the last finish reason wins. */
export interface ChunkOutcome {
  usage?: TokenUsage | undefined;
  finishReason?: string | undefined;
  text?: string | undefined;
  toolCalls?: Array<{ id?: string | undefined; name: string; arguments?: unknown }> | undefined;
}

/** Token usage summed: over a stream's chunks, over an agent run's model calls. */
export function addUsage(sum: TokenUsage | undefined, more: TokenUsage): TokenUsage {
  const reasoning = sum?.reasoningTokens !== undefined || more.reasoningTokens !== undefined;
  return {
    inputTokens: (sum?.inputTokens ?? 0) + more.inputTokens,
    outputTokens: (sum?.outputTokens ?? 0) + more.outputTokens,
    ...(reasoning ? { reasoningTokens: (sum?.reasoningTokens ?? 0) + (more.reasoningTokens ?? 0) } : {}),
  };
}

/**
 * Traces a streamed model call. Each step of the underlying generator runs inside the
 * span's context (the first one performs the HTTP request). Records the time to the
 * first chunk, sums usage over chunks, and ends the span however the stream ends:
 * completed, failed, or cancelled (the signal fired, or the consumer stopped reading),
 * with the tokens received so far.
 */
export async function* traceAIStream<C>(
  request: AICallRequest,
  start: () => AsyncGenerator<C>,
  read: (chunk: C) => ChunkOutcome,
): AsyncGenerator<C> {
  const { span, ctx } = startAISpan(request);
  const record = recordOf(ctx);
  const timing: Timing = { started: performance.now() };
  let usage: TokenUsage | undefined;
  let finishReason: string | undefined;
  const parts: MessagePart[] = [];
  let settled = false;
  let iterator: AsyncGenerator<C> | undefined;
  // one candidate, so one finish reason: the last chunk's
  const outcome = (): AICallOutcome => ({
    usage,
    finishReasons: finishReason !== undefined ? [finishReason] : undefined,
    outputMessages: () => [{ role: 'assistant', parts, finish_reason: finishReason ?? 'stop' }],
  });
  try {
    iterator = context.with(ctx, start);
    while (true) {
      const step = await context.with(ctx, () => iterator!.next());
      if (step.done) break;
      if (timing.firstChunkAt === undefined) {
        timing.firstChunkAt = performance.now();
        span.setAttribute(attr.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, (timing.firstChunkAt - timing.started) / 1000);
      }
      try {
        const chunk = read(step.value);
        if (chunk.usage !== undefined) usage = addUsage(usage, chunk.usage);
        if (chunk.finishReason !== undefined) finishReason = chunk.finishReason;
        if (request.captureContent) {
          const last = parts.at(-1);
          if (chunk.text && last?.type === 'text') last.content += chunk.text;
          else if (chunk.text) parts.push({ type: 'text', content: chunk.text });
          for (const { id, name, arguments: args } of chunk.toolCalls ?? []) {
            parts.push({ type: 'tool_call', ...(id ? { id } : {}), name, arguments: args });
          }
        }
      } catch (failure) {
        // a chunk we cannot read is still passed on
        tracingFailed('traceAIStream.read', failure);
      }
      yield step.value;
    }
    settled = true;
    endAISpan(span, request, outcome(), record, timing);
  } catch (error) {
    settled = true;
    endAISpan(span, request, outcome(), record, timing, error);
    throw error;
  } finally {
    if (!settled) {
      // the consumer stopped reading: the caller cancelled; close the upstream stream
      const abandoned = Object.assign(new Error('the stream was abandoned before it ended'), { name: 'AbortError' });
      endAISpan(span, request, outcome(), record, timing, abandoned);
      await iterator?.return?.(undefined as never).catch(() => undefined);
    }
  }
}
