/**
 * GenAI attribute names: the OpenTelemetry GenAI semantic conventions (v1.41.1, still
 * "development", so copied here as the contrib packages do), one name a major consumer
 * reads outside them, and our own names under `renovation.*`.
 */
export { ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';

export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
export const ATTR_GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
export const ATTR_GEN_AI_AGENT_NAME = 'gen_ai.agent.name';
export const ATTR_GEN_AI_AGENT_DESCRIPTION = 'gen_ai.agent.description';
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_TOOL_DESCRIPTION = 'gen_ai.tool.description';
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
export const ATTR_GEN_AI_TOOL_TYPE = 'gen_ai.tool.type';
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = 'gen_ai.tool.call.arguments';
export const ATTR_GEN_AI_TOOL_CALL_RESULT = 'gen_ai.tool.call.result';
export const ATTR_GEN_AI_SYSTEM_INSTRUCTIONS = 'gen_ai.system_instructions';
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages';
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';
/** semconv (development, `user` registry): the user the agent works for; Langfuse shows it as the trace's user. */
export const ATTR_USER_ID = 'user.id';

/**
 * Not in the conventions: the estimated cost of the call in USD. Langfuse's OTLP ingestion reads
 * `gen_ai.usage.cost` as the observation's total cost (and excludes it from the token counts it
 * builds from `gen_ai.usage.*`), so this one name is kept where that consumer looks for it.
 */
export const ATTR_GEN_AI_USAGE_COST = 'gen_ai.usage.cost';

/** ours: true on a model call or agent run that stopped because its caller cancelled it (client gone). */
export const ATTR_CANCELLED = 'renovation.cancelled';
/** ours: how many times the model call's HTTP request was sent again (429 waits and 5xx/network retries). */
export const ATTR_RETRY_COUNT = 'renovation.retry.count';
/** ours: the wait in seconds the provider last asked for with a 429 (Gemini's RetryInfo / Retry-After). */
export const ATTR_RETRY_AFTER = 'renovation.retry.after';
/** ours: event on the model span for each request sent again, with `error.type` and the wait. */
export const EVENT_RETRY = 'renovation.retry';
/** ours: which LangGraph node a node span runs, and at which step of the graph. */
export const ATTR_LANGGRAPH_NODE = 'renovation.langgraph.node';
export const ATTR_LANGGRAPH_STEP = 'renovation.langgraph.step';

/** `gen_ai.provider.name` of the Gemini API (generativelanguage.googleapis.com). */
export const GEN_AI_PROVIDER_GEMINI = 'gcp.gemini';
