/**
 * AI tracing, the public face: `traceAICall`/`traceAIStream` wrap one model call in a
 * `chat {model}` span (`currentModelCall` lets the provider client add what only it
 * sees); `traceAgentRun` wraps a LangGraph run in `invoke_agent {agent}`; the
 * `LangGraphTracingHandler` callbacks add node and `execute_tool` spans; `runInTraceOf`
 * lets a node or tool run inside its span. The implementation lives in telemetry/genai.
 */
export {
  traceAICall,
  traceAIStream,
  aiErrorType,
  aiSpanName,
  addUsage,
} from '../telemetry/genai/model-call';
export { currentModelCall } from '../telemetry/genai/model-call-notes';
export type { ModelCallNotes } from '../telemetry/genai/model-call-notes';
export type {
  AICallRequest,
  AICallOutcome,
  ChunkOutcome,
  TokenUsage,
} from '../telemetry/genai/model-call';
export { traceAgentRun, runInTraceOf, agentRunSpanName } from '../telemetry/genai/agent-run';
export type { AgentRunRequest } from '../telemetry/genai/agent-run';
export { LangGraphTracingHandler, toolTraceMetadata } from '../telemetry/genai/langgraph-handler';
export type { GenAIMessage, MessagePart } from '../telemetry/genai/content';
export { GEN_AI_PROVIDER_GEMINI } from '../telemetry/semconv';
