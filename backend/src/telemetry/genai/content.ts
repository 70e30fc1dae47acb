/**
 * Prompt and reply text in the GenAI conventions' message format, for the opt-in
 * content capture. Kept under a size limit without ever producing broken JSON: the
 * longest texts are shortened first, then the oldest messages dropped.
 */
export type MessagePart =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id?: string; name: string; arguments?: unknown }
  | { type: 'tool_call_response'; id?: string; response: unknown };

export interface GenAIMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  parts: MessagePart[];
  finish_reason?: string;
}

export const DEFAULT_CONTENT_LIMIT = 8_192;
const ELLIPSIS = '…';

function textParts(messages: GenAIMessage[]): Array<{ content: string }> {
  return messages.flatMap((message) => message.parts.filter((part): part is { type: 'text'; content: string } => part.type === 'text'));
}

export function boundedMessagesJson(messages: GenAIMessage[], limit = DEFAULT_CONTENT_LIMIT): string {
  const copy: GenAIMessage[] = structuredClone(messages);
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
