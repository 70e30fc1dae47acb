/**
 * AI tracing, the public face: `traceAICall`/`traceAIStream` wrap one model call in an
 * `ai.chat.invoke` span; `traceAgentRun` wraps a LangGraph run; the
 * `LangGraphTracingHandler` callbacks add node and tool spans; `runInTraceOf` lets a
 * node or tool run inside its span. The implementation lives in telemetry/genai.
 */
export { traceAICall, traceAIStream, aiErrorType, AI_SPAN_NAME } from '../telemetry/genai/model-call';
export type { AICallRequest, AICallOutcome, ChunkOutcome, TokenUsage } from '../telemetry/genai/model-call';
export { traceAgentRun, runInTraceOf, AGENT_RUN_SPAN_NAME } from '../telemetry/genai/agent-run';
export { LangGraphTracingHandler } from '../telemetry/genai/langgraph-handler';
export type { GenAIMessage, MessagePart } from '../telemetry/genai/content';
export { GEN_AI_PROVIDER_GEMINI } from '../telemetry/genai/semconv';
