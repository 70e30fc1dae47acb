/**
 * The semantic conventions' names this app writes that are still "development" (unstable):
 * copied here, as the contrib packages do, so an upstream rename cannot silently change what
 * we emit. GenAI names are from the GenAI conventions v1.41.1. Stable names come from
 * `@opentelemetry/semantic-conventions`; names of our own are in attributes.ts.
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

/** `gen_ai.provider.name` of the Gemini API (generativelanguage.googleapis.com). */
export const GEN_AI_PROVIDER_GEMINI = 'gcp.gemini';
/** semconv: the kind of token counted (`input`, `output`), on the token-usage metric. */
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';

/** semconv (development): the authenticated user, the JWT `sub`. */
export const ATTR_ENDUSER_ID = 'enduser.id';
/** semconv (development). */
export const ATTR_DEPLOYMENT_ENVIRONMENT_NAME = 'deployment.environment.name';
/** semconv (development): an opaque id of the conversation; we use the renovation session id. */
export const ATTR_SESSION_ID = 'session.id';

/** semconv (development): messaging, which the Socket.io spans and the job metric follow. */
export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
/** `messaging.system` of Socket.io (not a well-known value of the conventions: the library's name). */
export const MESSAGING_SYSTEM_SOCKETIO = 'socket.io';

/** Deprecated HTTP names (before semconv 1.23) that older instrumentation may still set: redacted all the same. */
export const ATTR_HTTP_URL = 'http.url';
export const ATTR_HTTP_TARGET = 'http.target';
/** semconv (development, database): a pooled connection's state (`used`, `idle`) and its pool, on instrumentation-pg's pool metrics. */
export const ATTR_DB_CLIENT_CONNECTION_STATE = 'db.client.connection.state';
export const ATTR_DB_CLIENT_CONNECTION_POOL_NAME = 'db.client.connection.pool.name';
