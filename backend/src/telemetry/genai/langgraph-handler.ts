import { SpanKind, context, type Attributes } from '@opentelemetry/api';
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { Serialized } from '@langchain/core/load/serializable';
import type { ChainValues } from '@langchain/core/utils/types';
import { tracingFailed } from '../failure';
import { endSpan } from '../span';
import { endCancelled, isCancellation } from './cancellation';
import { boundedValueJson } from './content';
import { getAgentRun } from './conversation';
import { runRegistry, type RunRegistry } from './run-registry';
import * as attr from '../attributes';
import { tracerFor } from '../tracer';

const tracer = tracerFor('langgraph');

export interface LangGraphTracingOptions {
  /** Record tool arguments and results (`gen_ai.tool.call.*`). Off by default: they carry user data. */
  captureContent?: boolean;
  registry?: RunRegistry;
}

function conversationAttributes(genAI: boolean): Attributes {
  const run = getAgentRun(context.active());
  if (run === undefined) return {};
  return {
    [attr.ATTR_GEN_AI_CONVERSATION_ID]: run.conversationId,
    // the provider belongs on GenAI spans (tool calls), not on LangGraph's own node spans
    ...(genAI ? { [attr.ATTR_GEN_AI_PROVIDER_NAME]: run.provider } : {}),
  };
}

function truncate(value: unknown, limit = 256): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

/** Metadata for a LangChain tool that gives its tool span `gen_ai.tool.description`. */
export function toolTraceMetadata(description: string): Record<string, unknown> {
  return { [attr.ATTR_GEN_AI_TOOL_DESCRIPTION]: description };
}

/**
 * LangChain callbacks that turn a LangGraph run into spans: one per node step
 * (`langgraph.node <name>`, with `renovation.langgraph.node`/`.step`) and one per tool
 * call (`execute_tool <name>`, GenAI conventions), parented along LangChain's own run tree. Model calls
 * are traced by `traceAICall` in the model itself, so no chat-model span is made here.
 * Awaited (not run in the background), so a span exists before the work it describes
 * starts. Every method is guarded: a tracing failure never reaches the agent.
 */
export class LangGraphTracingHandler extends BaseCallbackHandler {
  override name = 'renovation-agent-otel';
  private readonly registry: RunRegistry;
  private readonly captureContent: boolean;

  constructor({ captureContent = false, registry = runRegistry }: LangGraphTracingOptions = {}) {
    super();
    this.awaitHandlers = true;
    this.registry = registry;
    this.captureContent = captureContent;
  }

  override handleChainStart(
    _chain: Serialized,
    _inputs: ChainValues,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    _runType?: string,
    runName?: string,
  ): void {
    try {
      if (this.registry.has(runId)) return;
      const node = metadata?.langgraph_node;
      const step = metadata?.langgraph_step;
      const isNodeStep =
        typeof node === 'string' &&
        runName === node &&
        typeof step === 'number' &&
        tags?.includes(`graph:step:${step}`) &&
        !tags.includes('langsmith:hidden');
      if (!isNodeStep) {
        this.registry.addPassThrough(runId, parentRunId);
        return;
      }
      const attributes: Attributes = {
        [attr.ATTR_LANGGRAPH_NODE]: node,
        [attr.ATTR_LANGGRAPH_STEP]: step,
        ...conversationAttributes(false),
      };
      const parent = this.registry.parentContext(parentRunId);
      const span = tracer.startSpan(`langgraph.node ${node}`, { kind: SpanKind.INTERNAL, attributes }, parent);
      this.registry.addSpan(runId, parentRunId, span);
    } catch (failure) {
      tracingFailed('LangGraphTracingHandler.handleChainStart', failure);
    }
  }

  override handleChainEnd(_outputs: ChainValues, runId: string): void {
    this.finish(runId);
  }

  override handleChainError(error: unknown, runId: string): void {
    this.finish(runId, error);
  }

  override handleToolStart(
    _tool: Serialized,
    input: string,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
    toolCallId?: string,
  ): void {
    try {
      if (this.registry.has(runId)) return;
      const name = runName ?? 'tool';
      const attributes: Attributes = {
        [attr.ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool',
        [attr.ATTR_GEN_AI_TOOL_NAME]: name,
        [attr.ATTR_GEN_AI_TOOL_TYPE]: 'function',
        ...conversationAttributes(true),
      };
      const description = metadata?.[attr.ATTR_GEN_AI_TOOL_DESCRIPTION];
      if (typeof description === 'string') attributes[attr.ATTR_GEN_AI_TOOL_DESCRIPTION] = description;
      if (toolCallId !== undefined) attributes[attr.ATTR_GEN_AI_TOOL_CALL_ID] = toolCallId;
      if (this.captureContent) attributes[attr.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = boundedValueJson(input);
      const span = tracer.startSpan(
        `execute_tool ${name}`,
        { kind: SpanKind.INTERNAL, attributes },
        this.registry.parentContext(parentRunId),
      );
      this.registry.addSpan(runId, parentRunId, span);
    } catch (failure) {
      tracingFailed('LangGraphTracingHandler.handleToolStart', failure);
    }
  }

  override handleToolEnd(output: unknown, runId: string): void {
    // ToolNode turns a thrown tool error into a ToolMessage with status "error"
    const message = output as { status?: unknown; content?: unknown } | undefined;
    const failed = message?.status === 'error';
    if (this.captureContent && !failed) {
      try {
        const result = boundedValueJson(message?.content ?? output);
        this.registry.spanOf(runId)?.setAttribute(attr.ATTR_GEN_AI_TOOL_CALL_RESULT, result);
      } catch (failure) {
        tracingFailed('LangGraphTracingHandler.handleToolEnd', failure);
      }
    }
    const error = failed ? Object.assign(new Error(truncate(message?.content)), { name: 'ToolError' }) : undefined;
    this.finish(runId, error);
  }

  override handleToolError(error: unknown, runId: string): void {
    this.finish(runId, error);
  }

  private finish(runId: string, error?: unknown): void {
    try {
      const span = this.registry.take(runId);
      if (span === undefined) return;
      if (error !== undefined && isCancellation(error)) endCancelled(span);
      else endSpan(span, error);
    } catch (failure) {
      tracingFailed('LangGraphTracingHandler.finish', failure);
    }
  }
}
