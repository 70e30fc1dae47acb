import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020';

/**
 * Validates captured GenAI content against the conventions' published JSON schemas (v1.41.1,
 * copied under tests/fixtures/genai-schemas). The schemas let any object with a string `type`
 * through as a GenericPart, so each part of a well-known type is also checked against that
 * type's own definition: a `tool_call` without a `name` fails.
 */
const DIR = path.resolve(__dirname, '../tests/fixtures/genai-schemas');
const FILES = {
  input: 'gen-ai-input-messages.json',
  output: 'gen-ai-output-messages.json',
  system: 'gen-ai-system-instructions.json',
} as const;
export type GenAISchema = keyof typeof FILES;

const PART_DEFS: Record<string, string> = {
  text: 'TextPart',
  tool_call: 'ToolCallRequestPart',
  tool_call_response: 'ToolCallResponsePart',
  blob: 'BlobPart',
  file: 'FilePart',
  uri: 'UriPart',
  reasoning: 'ReasoningPart',
  server_tool_call: 'ServerToolCallPart',
  server_tool_call_response: 'ServerToolCallResponsePart',
};

// formats are not checked: the conventions use `format: binary`, which is no JSON-schema format
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
for (const [name, file] of Object.entries(FILES)) {
  ajv.addSchema({ ...(JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as object), $id: name });
}

function partsOf(schema: GenAISchema, value: unknown): unknown[] {
  if (!Array.isArray(value)) return [];
  return schema === 'system' ? value : value.flatMap((message) => (message as { parts?: unknown[] })?.parts ?? []);
}

/** The problems of `json` as the attribute `schema` describes it; [] when it is valid. */
export function genAISchemaErrors(schema: GenAISchema, json: unknown): string[] {
  if (typeof json !== 'string') return [`not a JSON string: ${typeof json}`];
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return [`not JSON: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  const validate = ajv.getSchema(schema)!;
  if (!validate(value)) {
    problems.push(...(validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`));
  }
  for (const [index, part] of partsOf(schema, value).entries()) {
    const def = PART_DEFS[(part as { type?: string })?.type ?? ''];
    const validatePart = def ? ajv.getSchema(`${schema}#/$defs/${def}`) : undefined;
    if (validatePart && !validatePart(part)) {
      const where = `part ${index} (${def})`;
      problems.push(...(validatePart.errors ?? []).map((error) => `${where}${error.instancePath} ${error.message}`));
    }
  }
  return problems;
}
