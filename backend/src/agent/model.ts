import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type { BaseMessage } from '@langchain/core/messages';
import type { ChatGenerationChunk, ChatResult } from '@langchain/core/outputs';
import { ChatGoogleGenerativeAI } from '@langchain/google-genai';
import { estimateCostUsd } from './pricing';
import {
  GEN_AI_PROVIDER_GEMINI,
  traceAICall,
  traceAIStream,
  type AICallOutcome,
  type AICallRequest,
  type ChunkOutcome,
  type GenAIMessage,
  type MessagePart,
  type TokenUsage,
} from '../utils/ai-tracing';
import {
  DEFAULT_RATE_LIMIT_RETRY,
  instrumentGeminiClient,
  type GeminiModelClient,
  type RateLimitRetryPolicy,
} from './gemini-client';

export interface ChatModelOptions {
  model: string;
  temperature: number;
  maxOutputTokens: number;
  apiKey: string;
  /** The API base (a proxy, the stand-in); the SDK's default when undefined. */
  baseUrl?: string | undefined;
  /** Retries of 5xx and network failures (LangChain's; a 429 follows `rateLimitRetry`). */
  maxRetries: number;
  /** Waits after a 429 that asks for one (default: 2 retries, waits up to 10 s). */
  rateLimitRetry?: RateLimitRetryPolicy;
  /** OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT. */
  captureContent: boolean;
}

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

interface UsageMetadataLike {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
}

/**
 * LangChain's usage → ours. LangChain counts Gemini's `candidatesTokenCount` as output
 * and drops `thoughtsTokenCount` (it only survives in the total), but thinking is
 * billed as output: output = total − input, reasoning = total − input − candidates.
 */
export function usageFromLangChain(usage: UsageMetadataLike | undefined): TokenUsage | undefined {
  if (usage === undefined) return undefined;
  const input = usage.input_tokens ?? 0;
  const candidates = usage.output_tokens ?? 0;
  const total = usage.total_tokens ?? input + candidates;
  const output = Math.max(candidates, total - input);
  return { inputTokens: input, outputTokens: output, reasoningTokens: output - candidates };
}

const BLOCKED = ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY'];

/**
 * Gemini's `finishReason` → the conventions' values: STOP with a function call is
 * `tool_call`, MAX_TOKENS `length`, the blocking reasons `content_filter`; others lower-cased.
 */
export function finishReasonFromGemini(reason: string, calledTools: boolean): string {
  const upper = reason.toUpperCase();
  if (upper === 'STOP') return calledTools ? 'tool_call' : 'stop';
  if (upper === 'MAX_TOKENS') return 'length';
  if (BLOCKED.includes(upper)) return 'content_filter';
  if (upper === 'MALFORMED_FUNCTION_CALL') return 'error';
  return reason.toLowerCase();
}

/** `server.address` and `server.port` of the API base the SDK calls. */
export function serverOf(baseUrl: string | undefined): { address: string; port: number } | undefined {
  try {
    const url = new URL(baseUrl ?? GEMINI_DEFAULT_BASE_URL);
    return { address: url.hostname, port: url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443 };
  } catch {
    return undefined;
  }
}

/** A tool's result as the model got it: JSON when it is JSON, else the text. */
function parsedResult(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

type ToolCallLike = { id?: string | undefined; name: string; args?: unknown };

function partsOf(message: BaseMessage): MessagePart[] {
  const parts: MessagePart[] = message.text ? [{ type: 'text', content: message.text }] : [];
  for (const call of (message as { tool_calls?: ToolCallLike[] }).tool_calls ?? []) {
    const id = call.id ? { id: call.id } : {};
    parts.push({ type: 'tool_call', ...id, name: call.name, arguments: call.args ?? null });
  }
  return parts;
}

/** The chat history in the conventions' input shape; tool results go back as `tool_call_response` parts. */
export function toInputMessages(messages: BaseMessage[], systemApart: boolean): GenAIMessage[] {
  return messages
    .filter((message) => !(systemApart && message.getType() === 'system'))
    .map((message): GenAIMessage => {
      const type = message.getType();
      if (type === 'tool') {
        const id = (message as { tool_call_id?: string }).tool_call_id;
        const response = parsedResult(message.text);
        return { role: 'tool', parts: [{ type: 'tool_call_response', ...(id ? { id } : {}), response }] };
      }
      return { role: type === 'system' ? 'system' : type === 'ai' ? 'assistant' : 'user', parts: partsOf(message) };
    });
}

/** What Gemini receives as `systemInstruction`, apart from the contents. */
export function toSystemInstructions(messages: BaseMessage[]): MessagePart[] {
  return messages
    .filter((message) => message.getType() === 'system' && message.text)
    .map((message) => ({ type: 'text' as const, content: message.text }));
}

function toolCallsOfChunk(chunk: ChatGenerationChunk): ChunkOutcome['toolCalls'] {
  type CallChunk = { id?: string; name?: string; args?: string };
  const calls = (chunk.message as { tool_call_chunks?: CallChunk[] }).tool_call_chunks ?? [];
  return calls
    .filter((call): call is CallChunk & { name: string } => Boolean(call.name))
    .map((call) => ({ id: call.id, name: call.name, arguments: call.args ? parsedResult(call.args) : null }));
}

/**
 * `ChatGoogleGenerativeAI` whose every call runs inside `traceAICall`: the `chat {model}`
 * span is the active context while the SDK calls `fetch`, so the outgoing HTTP span is its
 * child and Gemini receives its `traceparent`. The SDK client below it waits out short
 * 429s and hands the raw responses' id and model version to the span.
 * (`_streamChatModelEvents`, used only by `model.streamEvents()` without a version,
 * is not traced; the agent streams through `graph.stream`.)
 */
class TracedChatGoogleGenerativeAI extends ChatGoogleGenerativeAI {
  private readonly describe: (
    messages: BaseMessage[],
    stream: boolean,
    signal: AbortSignal | undefined,
  ) => AICallRequest;

  constructor(options: ChatModelOptions) {
    const baseUrl = options.baseUrl?.replace(/\/+$/, '');
    super({
      model: options.model,
      apiKey: options.apiKey,
      temperature: options.temperature,
      maxOutputTokens: options.maxOutputTokens,
      maxRetries: options.maxRetries,
      ...(baseUrl !== undefined ? { baseUrl } : {}),
    });
    // LangChain keeps the SDK model private; its two calls are wrapped in place
    const { client } = this as unknown as { client: GeminiModelClient };
    instrumentGeminiClient(client, options.rateLimitRetry ?? DEFAULT_RATE_LIMIT_RETRY);
    const server = serverOf(baseUrl);
    this.describe = (messages, stream, signal) => ({
      provider: GEN_AI_PROVIDER_GEMINI,
      model: options.model,
      serverAddress: server?.address,
      serverPort: server?.port,
      temperature: options.temperature,
      maxTokens: options.maxOutputTokens,
      stream,
      captureContent: options.captureContent,
      systemInstructions: () => (this.useSystemInstruction ? toSystemInstructions(messages) : []),
      inputMessages: () => toInputMessages(messages, this.useSystemInstruction),
      price: estimateCostUsd,
      signal,
    });
  }

  override _generate(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    return traceAICall(
      this.describe(messages, false, options.signal),
      () => super._generate(messages, options, runManager),
      (result): AICallOutcome => {
        const generation = result.generations[0];
        const calls = (generation?.message as { tool_calls?: unknown[] } | undefined)?.tool_calls;
        const calledTools = (calls?.length ?? 0) > 0;
        const raw = generation?.generationInfo?.finishReason as string | undefined;
        const finishReason = raw ? finishReasonFromGemini(raw, calledTools) : undefined;
        return {
          usage: usageFromLangChain(
            (generation?.message as { usage_metadata?: UsageMetadataLike } | undefined)?.usage_metadata,
          ),
          finishReasons: finishReason ? [finishReason] : undefined,
          outputMessages: generation
            ? () => [{ role: 'assistant', parts: partsOf(generation.message), finish_reason: finishReason ?? 'stop' }]
            : undefined,
        };
      },
    );
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    let calledTools = false;
    yield* traceAIStream(
      this.describe(messages, true, options.signal),
      () => super._streamResponseChunks(messages, options, runManager),
      (chunk): ChunkOutcome => {
        const toolCalls = toolCallsOfChunk(chunk);
        if (toolCalls?.length) calledTools = true;
        const raw = chunk.generationInfo?.finishReason as string | undefined;
        return {
          usage: usageFromLangChain((chunk.message as { usage_metadata?: UsageMetadataLike }).usage_metadata),
          finishReason: raw ? finishReasonFromGemini(raw, calledTools) : undefined,
          text: chunk.text,
          toolCalls,
        };
      },
    );
  }
}

export type ChatModel = ChatGoogleGenerativeAI;

/** The agent's model: Gemini through `@langchain/google-genai`, traced. */
export function createChatModel(options: ChatModelOptions): ChatModel {
  return new TracedChatGoogleGenerativeAI(options);
}
