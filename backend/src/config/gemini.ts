import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type { BaseMessage } from '@langchain/core/messages';
import type { ChatGenerationChunk, ChatResult } from '@langchain/core/outputs';
import { ChatGoogleGenerativeAI } from '@langchain/google-genai';
import { estimateCostUsd } from '../agent/pricing';
import {
  GEN_AI_PROVIDER_GEMINI,
  traceAICall,
  traceAIStream,
  type AICallOutcome,
  type AICallRequest,
  type ChunkOutcome,
  type GenAIMessage,
  type TokenUsage,
} from '../utils/ai-tracing';

export interface ChatModelOptions {
  model: string;
  temperature: number;
  maxOutputTokens: number;
  apiKey: string;
  /** The API base (a proxy, the stand-in); the SDK's default when undefined. */
  baseUrl?: string | undefined;
  /** Retries of 5xx and network failures (LangChain never retries a Gemini 429). */
  maxRetries: number;
  /** OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT. */
  captureContent: boolean;
}

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

function toGenAIMessages(messages: BaseMessage[]): GenAIMessage[] {
  return messages.map((message): GenAIMessage => {
    const type = message.getType();
    if (type === 'tool') {
      const id = (message as { tool_call_id?: string }).tool_call_id;
      return { role: 'tool', parts: [{ type: 'tool_call_response', ...(id ? { id } : {}), response: message.text }] };
    }
    const role = type === 'system' ? 'system' : type === 'ai' ? 'assistant' : 'user';
    const parts: GenAIMessage['parts'] = message.text ? [{ type: 'text', content: message.text }] : [];
    for (const call of (message as { tool_calls?: Array<{ id?: string; name: string; args: unknown }> }).tool_calls ?? []) {
      parts.push({ type: 'tool_call', ...(call.id ? { id: call.id } : {}), name: call.name, arguments: call.args });
    }
    return { role, parts };
  });
}

/**
 * `ChatGoogleGenerativeAI` whose every call runs inside `traceAICall`: the
 * `ai.chat.invoke` span is the active context while the SDK calls `fetch`, so the
 * outgoing HTTP span is its child and Gemini receives its `traceparent`.
 * (`_streamChatModelEvents`, used only by `model.streamEvents()` without a version,
 * is not traced; the agent streams through `graph.stream`.)
 */
class TracedChatGoogleGenerativeAI extends ChatGoogleGenerativeAI {
  private readonly describe: (messages: BaseMessage[], stream: boolean, signal: AbortSignal | undefined) => AICallRequest;

  constructor(options: ChatModelOptions) {
    super({
      model: options.model,
      apiKey: options.apiKey,
      temperature: options.temperature,
      maxOutputTokens: options.maxOutputTokens,
      maxRetries: options.maxRetries,
      ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl.replace(/\/+$/, '') } : {}),
    });
    this.describe = (messages, stream, signal) => ({
      provider: GEN_AI_PROVIDER_GEMINI,
      system: 'gemini',
      model: options.model,
      temperature: options.temperature,
      maxTokens: options.maxOutputTokens,
      stream,
      captureContent: options.captureContent,
      inputMessages: () => toGenAIMessages(messages),
      price: estimateCostUsd,
      signal,
    });
  }

  override _generate(messages: BaseMessage[], options: this['ParsedCallOptions'], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    return traceAICall(
      this.describe(messages, false, options.signal),
      () => super._generate(messages, options, runManager),
      (result): AICallOutcome => {
        const generation = result.generations[0];
        const finishReason = generation?.generationInfo?.finishReason as string | undefined;
        return {
          usage: usageFromLangChain((generation?.message as { usage_metadata?: UsageMetadataLike } | undefined)?.usage_metadata),
          finishReasons: finishReason ? [finishReason.toLowerCase()] : undefined,
          outputMessages: generation ? () => toGenAIMessages([generation.message]) : undefined,
        };
      },
    );
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    yield* traceAIStream(
      this.describe(messages, true, options.signal),
      () => super._streamResponseChunks(messages, options, runManager),
      (chunk): ChunkOutcome => {
        const finishReason = chunk.generationInfo?.finishReason as string | undefined;
        return {
          usage: usageFromLangChain((chunk.message as { usage_metadata?: UsageMetadataLike }).usage_metadata),
          finishReason: finishReason ? finishReason.toLowerCase() : undefined,
          text: chunk.text,
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
