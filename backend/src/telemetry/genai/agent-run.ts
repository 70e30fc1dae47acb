import { SpanKind, context, trace, type Attributes } from '@opentelemetry/api';
import { endSpan } from '../span';
import { setConversationId } from './conversation';
import { runRegistry } from './run-registry';
import * as attr from './semconv';

const tracer = trace.getTracer('renovation-agent-backend/langgraph');
export const AGENT_RUN_SPAN_NAME = 'langgraph.graph.stream';

/**
 * The span of one agent run (`langgraph.graph.stream`), active while `run` executes so
 * that the graph, which runs in the context `graph.stream()` was called in, hangs below
 * it. Whatever node or tool span is still open when the run ends (an abandoned or
 * failed stream) is ended with it.
 */
export async function traceAgentRun<T>(
  { agentName, conversationId, attributes = {} }: { agentName: string; conversationId: string; attributes?: Attributes },
  run: () => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan(AGENT_RUN_SPAN_NAME, {
    kind: SpanKind.INTERNAL,
    attributes: {
      [attr.ATTR_GEN_AI_OPERATION_NAME]: 'invoke_agent',
      [attr.ATTR_GEN_AI_AGENT_NAME]: agentName,
      [attr.ATTR_GEN_AI_CONVERSATION_ID]: conversationId,
      ...attributes,
    },
  });
  const ctx = setConversationId(trace.setSpan(context.active(), span), conversationId);
  let failure: unknown;
  try {
    return await context.with(ctx, run);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    for (const open of runRegistry.takeAllOf(span)) endSpan(open, failure ?? Object.assign(new Error('the agent run ended first'), { name: 'AbortError' }));
    endSpan(span, failure);
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
