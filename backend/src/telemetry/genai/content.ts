/**
 * Prompt and reply content in the GenAI conventions' JSON shapes (input/output messages,
 * system instructions), for the opt-in content capture. Kept under a size limit without
 * ever producing broken JSON: the longest texts are shortened first, then the oldest
 * entries dropped.
 */
export type MessagePart =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id?: string; name: string; arguments?: unknown }
  | { type: 'tool_call_response'; id?: string; response: unknown };

export interface GenAIMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  parts: MessagePart[];
  /** Required on output messages (v1.41.1 schema), absent on input messages. */
  finish_reason?: string;
}

export const DEFAULT_CONTENT_LIMIT = 8_192;
const ELLIPSIS = '…';

type TextPart = Extract<MessagePart, { type: 'text' }>;

function textParts(entries: Array<GenAIMessage | MessagePart>): TextPart[] {
  return entries
    .flatMap((entry) => ('parts' in entry ? entry.parts : [entry]))
    .filter((part): part is TextPart => part.type === 'text');
}

/** JSON of `entries` (messages, or the parts of system instructions) at most `limit` characters long. */
export function boundedJson(entries: Array<GenAIMessage | MessagePart>, limit = DEFAULT_CONTENT_LIMIT): string {
  const copy = structuredClone(entries);
  let json = JSON.stringify(copy);
  for (let round = 0; json.length > limit && round < 64; round++) {
    const parts = textParts(copy).filter((part) => part.content.length > 1);
    if (parts.length === 0) break;
    const longest = parts.reduce((a, b) => (b.content.length > a.content.length ? b : a));
    const excess = json.length - limit;
    // JSON escaping can make a character cost more than one; cut a little extra
    const keep = Math.max(0, longest.content.length - excess - 16);
    longest.content = `${longest.content.slice(0, keep)}${ELLIPSIS}`;
    json = JSON.stringify(copy);
  }
  while (json.length > limit && copy.length > 1) {
    copy.shift();
    json = JSON.stringify(copy);
  }
  return json.length > limit ? '[]' : json;
}

/**
 * A tool's arguments or result as the conventions expect it (an object, here as JSON): a
 * JSON string is parsed first; too long a value becomes a shortened JSON string, still valid.
 */
export function boundedValueJson(value: unknown, limit = 4_096): string {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = value;
    }
  }
  const json = JSON.stringify(parsed) ?? 'null';
  if (json.length <= limit) return json;
  const text = typeof parsed === 'string' ? parsed : json;
  let keep = limit - 16;
  let shortened = JSON.stringify(`${text.slice(0, keep)}${ELLIPSIS}`);
  while (shortened.length > limit && keep > 0) {
    keep = Math.max(0, keep - (shortened.length - limit) - 8);
    shortened = JSON.stringify(`${text.slice(0, keep)}${ELLIPSIS}`);
  }
  return shortened;
}
