/**
 * Attribute names the viewer reads from spans it receives. They are read, never written,
 * from spans of any version of the backend or the worker, so both the current name and
 * the one before it are listed where a name has moved (the estimated cost).
 */
export const SERVICE_NAME = 'service.name';
export const HTTP_ROUTE = 'http.route';
export const GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const GEN_AI_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const GEN_AI_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
/** The cost: first name found wins. */
export const GEN_AI_COST = ['gen_ai.usage.cost', 'gen_ai.usage.cost.amount'] as const;
export const GEN_AI_COST_CURRENCY = 'gen_ai.usage.cost.currency';
/** `gen_ai.usage.cost` (the name Langfuse reads) is in US dollars and has no currency attribute. */
export const GEN_AI_COST_USD = 'gen_ai.usage.cost';
