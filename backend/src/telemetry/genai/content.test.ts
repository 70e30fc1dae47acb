import { describe, expect, it } from 'vitest';
import { boundedJson, boundedValueJson, type GenAIMessage } from './content';

describe('boundedJson', () => {
  const messages: GenAIMessage[] = [
    { role: 'system', parts: [{ type: 'text', content: 'You are helpful.' }] },
    { role: 'user', parts: [{ type: 'text', content: 'é"\\'.repeat(3000) }] },
    { role: 'assistant', parts: [{ type: 'tool_call', id: '1', name: 'estimate', arguments: { room: 'kitchen' } }] },
  ];

  it('when the messages fit, then they are written as they are', () => {
    expect(JSON.parse(boundedJson(messages.slice(0, 1), 1000))).toEqual(messages.slice(0, 1));
  });

  it.each([200, 1000, 5000])(
    'when they exceed %i characters, then the longest text is cut and the JSON stays valid and within the limit',
    (limit) => {
      const json = boundedJson(messages, limit);
      expect(json.length).toBeLessThanOrEqual(limit);
      const parsed = JSON.parse(json) as GenAIMessage[];
      expect(parsed.at(-1)).toEqual(messages.at(-1));
      const user = parsed.find((message) => message.role === 'user');
      if (user) expect((user.parts[0] as { content: string }).content.endsWith('…')).toBe(true);
    },
  );

  it('when even empty texts do not fit, then the oldest messages go first', () => {
    const json = boundedJson(messages, 120);
    expect(json.length).toBeLessThanOrEqual(120);
    expect((JSON.parse(json) as GenAIMessage[]).at(-1)?.role).toBe('assistant');
  });
});

describe('boundedValueJson', () => {
  it('when a tool gives JSON text, then it is recorded as the object it holds', () => {
    expect(JSON.parse(boundedValueJson('{"room":"attic","areaSqm":20}'))).toEqual({ room: 'attic', areaSqm: 20 });
    expect(JSON.parse(boundedValueJson({ room: 'attic' }))).toEqual({ room: 'attic' });
    expect(JSON.parse(boundedValueJson('plain words'))).toBe('plain words');
  });

  it('when the value is too long, then it becomes a shortened JSON string within the limit', () => {
    const json = boundedValueJson({ notes: 'é"\\'.repeat(2000) }, 300);
    expect(json.length).toBeLessThanOrEqual(300);
    expect((JSON.parse(json) as string).endsWith('…')).toBe(true);
  });
});
