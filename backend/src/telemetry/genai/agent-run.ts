import { SpanKind, context, trace, type Attributes } from '@opentelemetry/api';
import { endSpan } from '../span';
import { endCancelled, isCancellation } from './cancellation';
import { setAgentRun } from './conversation';
import { runRegistry } from './run-registry';
import * as attr from '../attributes';
import { tracerFor } from '../tracer';

const tracer = tracerFor('langgraph');

/** The conventions' agent span name: `invoke_agent {gen_ai.agent.name}`. */
export const agentRunSpanName = (agentName: string): string => `invoke_agent ${agentName}`;

export interface AgentRunRequest {
  agentName: string;
  agentDescription?: string | undefined;
  /** `gen_ai.conversation.id`: the renovation session. */
  conversationId: string;
  /** `gen_ai.provider.name` of the model the agent calls; repeated on every span below. */
  provider: string;
  /** `gen_ai.request.model` and the request settings the agent's model calls use. */
  model: string;
  /** The request settings; when not given, the first model call of the run fills them in. */
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  /** `user.id`: who the agent works for (an opaque id). */
  userId?: string | undefined;
  /** The run's abort signal: a run that ends after it fired was cancelled, not failed. */
  signal?: AbortSignal | undefined;
}

/**
 * The span of one agent run (`invoke_agent {agent}`, INTERNAL: the agent runs in this
 * process), active while `run` executes so that the graph, which runs in the context
 * `graph.stream()` was called in, hangs below it. Whatever node or tool span is still open
 * when the run ends (an abandoned or failed stream) is ended with it. Token usage is left to
 * the model spans: consumers that sum usage over a trace (Langfuse) would count it twice.
 */
export async function traceAgentRun<T>(request: AgentRunRequest, work: () => Promise<T>): Promise<T> {
  const attributes: Attributes = {
    [attr.ATTR_GEN_AI_OPERATION_NAME]: 'invoke_agent',
    [attr.ATTR_GEN_AI_PROVIDER_NAME]: request.provider,
    [attr.ATTR_GEN_AI_AGENT_NAME]: request.agentName,
    [attr.ATTR_GEN_AI_CONVERSATION_ID]: request.conversationId,
    [attr.ATTR_GEN_AI_REQUEST_MODEL]: request.model,
  };
  if (request.agentDescription !== undefined) attributes[attr.ATTR_GEN_AI_AGENT_DESCRIPTION] = request.agentDescription;
  if (request.temperature !== undefined) attributes[attr.ATTR_GEN_AI_REQUEST_TEMPERATURE] = request.temperature;
  if (request.maxTokens !== undefined) attributes[attr.ATTR_GEN_AI_REQUEST_MAX_TOKENS] = request.maxTokens;
  if (request.userId !== undefined) attributes[attr.ATTR_USER_ID] = request.userId;
  const span = tracer.startSpan(agentRunSpanName(request.agentName), { kind: SpanKind.INTERNAL, attributes });
  const settingsNoted = request.temperature !== undefined || request.maxTokens !== undefined;
  const run = { conversationId: request.conversationId, provider: request.provider, span, settingsNoted };
  const ctx = setAgentRun(trace.setSpan(context.active(), span), run);
  let failure: unknown;
  try {
    return await context.with(ctx, work);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    const cancelled = failure !== undefined && isCancellation(failure, request.signal);
    for (const open of runRegistry.takeAllOf(span)) {
      if (cancelled || failure === undefined) endCancelled(open);
      else endSpan(open, failure);
    }
    if (cancelled) endCancelled(span);
    else endSpan(span, failure);
  }
}

/**
 * Runs `fn` with the span of the LangChain run that `config` belongs to as the active
 * context, so that what it does (SQL queries in a tool, the model's HTTP call in a
 * node) nests under that node or tool span. Without tracing it just runs `fn`.
 */
export function runInTraceOf<T>(config: unknown, fn: () => T): T {
  const callbacks = (config as { callbacks?: { getParentRunId?: () => string | undefined } } | undefined)?.callbacks;
  let runId: string | undefined;
  try {
    runId = typeof callbacks?.getParentRunId === 'function' ? callbacks.getParentRunId() : undefined;
  } catch {
    runId = undefined;
  }
  const ctx = runRegistry.contextOf(runId);
  return ctx === undefined ? fn() : context.with(ctx, fn);
}
