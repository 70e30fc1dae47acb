// How AI spans are shown: the model call's figures, its messages as a conversation
// (when content capture was on), and an agent run as its nodes and tools in order.
// Both the current and the previous cost attribute are read.
import { formatCost, formatMs, formatTokens, h, section, table, valueText } from './render.js';

export const OPERATION = 'gen_ai.operation.name';
const COST = ['gen_ai.usage.cost', 'gen_ai.usage.cost.amount'];

export const isAi = (span) => span.attributes[OPERATION] !== undefined;

export function costOf(span) {
  for (const name of COST) if (typeof span.attributes[name] === 'number') return span.attributes[name];
  return undefined;
}

export function tokensOf(span) {
  const a = span.attributes;
  const input = a['gen_ai.usage.input_tokens'];
  const output = a['gen_ai.usage.output_tokens'];
  return input === undefined && output === undefined ? undefined : { input, output };
}

/** Short text for a waterfall row: "100 in / 15 out · model" (tokens first: a narrow row cuts the end). */
export function aiBadge(span) {
  const a = span.attributes;
  const tokens = tokensOf(span);
  const model = a['gen_ai.response.model'] ?? a['gen_ai.request.model'];
  const tool = a['gen_ai.tool.name'];
  // a tool span is usually named after its tool already
  const what = model ?? (typeof tool === 'string' && !span.name.includes(tool) ? tool : undefined);
  return [tokens && formatTokens(tokens.input, tokens.output), what].filter(Boolean).join(' · ');
}

export function aiSection(span) {
  const a = span.attributes;
  const rows = [['operation', a[OPERATION]]];
  const add = (label, value) => value !== undefined && value !== null && value !== '' && rows.push([label, value]);
  add('provider', a['gen_ai.provider.name'] ?? a['gen_ai.system']);
  add('model', a['gen_ai.response.model'] ?? a['gen_ai.request.model']);
  add('agent', a['gen_ai.agent.name']);
  add('tool', a['gen_ai.tool.name']);
  add('tool call id', a['gen_ai.tool.call.id']);
  const tokens = tokensOf(span);
  if (tokens) add('tokens', formatTokens(tokens.input, tokens.output));
  add('reasoning tokens', a['gen_ai.usage.reasoning.output_tokens']);
  const ttfc = a['gen_ai.response.time_to_first_chunk'];
  if (typeof ttfc === 'number') add('time to first chunk', formatMs(ttfc * 1000));
  const cost = costOf(span);
  // gen_ai.usage.cost is in US dollars; the older name came with its currency
  const currency = a['gen_ai.usage.cost.currency'] ?? (typeof a['gen_ai.usage.cost'] === 'number' ? 'USD' : undefined);
  if (cost !== undefined) add('cost', formatCost(cost, currency));
  const reasons = a['gen_ai.response.finish_reasons'];
  add('finish reasons', Array.isArray(reasons) ? reasons.join(', ') : reasons);
  add('temperature', a['gen_ai.request.temperature']);
  add('max tokens', a['gen_ai.request.max_tokens']);
  add('conversation', a['gen_ai.conversation.id']);
  const ai = h('div', { class: 'ai-facts' }, table(rows));
  return section('AI', ai, conversation(span), toolCall(span));
}

function parseJson(value) {
  if (typeof value !== 'string') return Array.isArray(value) ? value : undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

function pre(value) {
  const text =
    typeof value === 'string'
      ? (() => {
          const parsed = parseJson(value);
          return parsed === undefined ? value : JSON.stringify(parsed, null, 2);
        })()
      : JSON.stringify(value, null, 2);
  return h('pre', { class: 'code' }, text);
}

function part(p) {
  if (p === null || typeof p !== 'object') return h('p', {}, valueText(p));
  if (p.type === 'text') return h('p', { class: 'text' }, p.content ?? '');
  if (p.type === 'tool_call')
    return h(
      'div',
      { class: 'tool-call' },
      h(
        'div',
        { class: 'label' },
        `→ tool call ${p.name ?? ''}`,
        p.id ? h('span', { class: 'muted' }, ` ${p.id}`) : null,
      ),
      pre(p.arguments ?? {}),
    );
  if (p.type === 'tool_call_response')
    return h(
      'div',
      { class: 'tool-result' },
      h('div', { class: 'label' }, '← tool result', p.id ? h('span', { class: 'muted' }, ` ${p.id}`) : null),
      pre(p.response ?? p.result ?? null),
    );
  return h('div', { class: 'other-part' }, h('div', { class: 'label' }, p.type ?? 'part'), pre(p));
}

function bubble(message, direction) {
  const role = typeof message?.role === 'string' ? message.role : 'unknown';
  const parts = Array.isArray(message?.parts) ? message.parts : [{ type: 'text', content: valueText(message) }];
  return h(
    'div',
    { class: `message role-${role.replace(/[^a-z_]/gi, '')} ${direction}` },
    h(
      'div',
      { class: 'role' },
      role,
      message?.finish_reason ? h('span', { class: 'muted' }, ` · ${message.finish_reason}`) : null,
    ),
    parts.map(part),
  );
}

/** The captured messages (GenAI conventions' JSON) as a conversation, or nothing without capture. */
function conversation(span) {
  const a = span.attributes;
  const system = parseJson(a['gen_ai.system_instructions']);
  const input = parseJson(a['gen_ai.input.messages']);
  const output = parseJson(a['gen_ai.output.messages']);
  if (!system && !input && !output) return null;
  return h(
    'div',
    { class: 'conversation' },
    h('h4', {}, 'Conversation'),
    Array.isArray(system) && system.length > 0 ? bubble({ role: 'system', parts: system }, 'in') : null,
    (Array.isArray(input) ? input : []).map((m) => bubble(m, 'in')),
    (Array.isArray(output) ? output : []).map((m) => bubble(m, 'out')),
  );
}

function toolCall(span) {
  const a = span.attributes;
  const args = a['gen_ai.tool.call.arguments'];
  const result = a['gen_ai.tool.call.result'];
  if (args === undefined && result === undefined) return null;
  return h(
    'div',
    { class: 'conversation' },
    args !== undefined
      ? part({ type: 'tool_call', name: a['gen_ai.tool.name'], arguments: parseJson(args) ?? args })
      : null,
    result !== undefined ? part({ type: 'tool_call_response', response: parseJson(result) ?? result }) : null,
  );
}

/**
 * An agent run (`invoke_agent`) as what it did in order: each graph node (`langgraph.node`)
 * with the model calls and tools below it; model calls or tools outside any node are
 * listed on their own.
 */
export function agentRunSection(run, spans, select) {
  const children = new Map();
  for (const span of spans) {
    if (!children.has(span.parentSpanId)) children.set(span.parentSpanId, []);
    children.get(span.parentSpanId).push(span);
  }
  const byStart = (a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1);
  const descendants = (span, keep, stopAt) => {
    const found = [];
    const walk = (s) => {
      for (const child of children.get(s.spanId) ?? []) {
        if (keep(child)) found.push(child);
        if (!stopAt(child)) walk(child);
      }
    };
    walk(span);
    return found.sort(byStart);
  };
  // the node attributes moved to the backend's own namespace; spans from before still carry the old names
  const nodeOf = (s) => s.attributes['renovation.langgraph.node'] ?? s.attributes['langgraph.node'];
  const stepOf = (s) => s.attributes['renovation.langgraph.step'] ?? s.attributes['langgraph.step'];
  const isNode = (s) => nodeOf(s) !== undefined;
  const steps = descendants(
    run,
    (s) => isNode(s) || (isAi(s) && s.attributes[OPERATION] !== 'invoke_agent'),
    (s) => isNode(s) || s.attributes[OPERATION] === 'invoke_agent',
  );
  if (steps.length === 0) return null;
  const durationMs = (s) => Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6;
  const item = (s) =>
    h(
      'li',
      { class: `run-item${s.status.code === 'ERROR' ? ' error' : ''}`, dataset: { spanId: s.spanId } },
      h(
        'a',
        {
          href: '#',
          onclick: (event) => {
            event.preventDefault();
            select(s.spanId);
          },
        },
        s.attributes['gen_ai.tool.name']
          ? `tool ${s.attributes['gen_ai.tool.name']}`
          : `${s.attributes[OPERATION]} ${aiBadge(s)}`,
      ),
      h('span', { class: 'muted' }, ` ${formatMs(durationMs(s))}`),
    );
  const flow = steps.map((step) => {
    if (!isNode(step)) return h('li', { class: 'run-step' }, h('ul', {}, item(step)));
    const inner = descendants(
      step,
      (s) => isAi(s),
      (s) => s.attributes[OPERATION] === 'invoke_agent' || isNode(s),
    );
    const stepNo = stepOf(step);
    return h(
      'li',
      { class: `run-step${step.status.code === 'ERROR' ? ' error' : ''}` },
      h(
        'a',
        {
          href: '#',
          class: 'node',
          onclick: (event) => {
            event.preventDefault();
            select(step.spanId);
          },
        },
        `${stepNo !== undefined ? `${stepNo}. ` : ''}node ${nodeOf(step)}`,
      ),
      h('span', { class: 'muted' }, ` ${formatMs(durationMs(step))}`),
      inner.length > 0 ? h('ul', {}, inner.map(item)) : null,
    );
  });
  return section('Agent run', h('ol', { class: 'agent-run' }, flow));
}
