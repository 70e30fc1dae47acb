import type { GeminiPart, GeminiRequestBody, StandInTurn, StandInUsage } from './types';

/**
 * The stand-in's renovation assistant: deterministic, tool-using replies, so that a
 * developer without an API key sees real streaming, real tool calls and a full trace.
 * It calls a tool on the first turn of a user message and answers from the tool's
 * result on the next.
 */
const ROOMS: Record<string, string> = {
  kitchen: 'kitchen',
  bathroom: 'bathroom',
  bath: 'bathroom',
  bedroom: 'bedroom',
  'living room': 'living_room',
  lounge: 'living_room',
  hallway: 'hallway',
  basement: 'basement',
  attic: 'attic',
  garage: 'garage',
  roof: 'roof',
};
const NOTE = '\n\n(This answer comes from the offline Gemini stand-in: set GEMINI_API_KEY for real advice.)';

const estimateTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));
const euros = (cents: unknown) =>
  typeof cents === 'number'
    ? `€${(cents / 100).toLocaleString('en-IE', { maximumFractionDigits: 0 })}`
    : 'an unknown amount';

export function usageFor(body: GeminiRequestBody | undefined, reply: string): StandInUsage {
  return {
    promptTokens: estimateTokens(JSON.stringify(body?.contents ?? [])),
    candidatesTokens: estimateTokens(reply),
  };
}

function declaredTools(body: GeminiRequestBody | undefined): Set<string> {
  return new Set(
    (body?.tools ?? []).flatMap((tool) => (tool.functionDeclarations ?? []).map((declaration) => declaration.name)),
  );
}

function parseResult(part: GeminiPart): Record<string, unknown> {
  const response = part.functionResponse?.response as
    | { result?: unknown; error?: unknown; content?: unknown }
    | undefined;
  const raw = response?.result ?? response?.content ?? response;
  if (typeof raw === 'string') {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return { text: raw };
    }
  }
  return (raw ?? {}) as Record<string, unknown>;
}

/** The plan a "write a renovation plan" request gets, built from the session the tool read. */
function planFrom(result: Record<string, unknown>): string {
  const budget = typeof result.budgetCents === 'number' ? euros(result.budgetCents) : 'your budget';
  return [
    `Renovation plan for "${String(result.title)}"`,
    '',
    `1. Survey and scope (week 1): measure every room, photograph the existing state, list what stays. Keep 10-15% of ${budget} as contingency.`,
    '2. Permits and quotes (weeks 2-3): ask three contractors for itemised quotes; check whether structural or electrical work needs a permit.',
    '3. Rough work (weeks 4-6): demolition, plumbing and electrics first, while walls are open.',
    '4. Finishes (weeks 7-9): plastering, flooring, tiling, then paint; order long-lead items (kitchen units, windows) in week 2.',
    '5. Snagging (week 10): walk through with the contractor and hold back a final payment until the list is done.',
  ].join('\n');
}

function askedForPlan(body: GeminiRequestBody | undefined): boolean {
  return (body?.contents ?? []).some(
    (content) =>
      content.role === 'user' && (content.parts ?? []).some((part) => /renovation plan/i.test(part.text ?? '')),
  );
}

function answerFromTools(parts: GeminiPart[], plan = false): string {
  if (plan) {
    const details = parts.find((part) => part.functionResponse?.name === 'get_session_details');
    if (details) return `${planFrom(parseResult(details))}${NOTE}`;
  }
  const sentences = parts.map((part) => {
    const name = part.functionResponse?.name;
    const result = parseResult(part);
    if (typeof result.error === 'string' || (part.functionResponse?.response as { error?: unknown })?.error) {
      return `I could not look that up just now (${String(result.error ?? 'tool error')}). Could you rephrase, for example "12 m² kitchen, standard finish"?`;
    }
    if (name === 'estimate_renovation_cost') {
      const budget =
        typeof result.budgetCents === 'number'
          ? ` Your budget is ${euros(result.budgetCents)}, so this is ${result.withinBudget ? 'within' : 'over'} budget.`
          : '';
      return `A ${String(result.areaSqm)} m² ${String(result.room).replace('_', ' ')} with a ${String(result.finish)} finish comes to about ${euros(result.totalCents)} (${euros(result.perSqmCents)} per m² plus ${euros(result.fixedCents)} for fittings).${budget} I would keep 10-15% aside for surprises behind the walls.`;
    }
    if (name === 'update_session_budget') return `Noted: your budget is now ${euros(result.budgetCents)}.`;
    if (name === 'get_session_details') {
      const budget =
        typeof result.budgetCents === 'number' ? `a budget of ${euros(result.budgetCents)}` : 'no budget yet';
      return `Your project "${String(result.title)}" has ${budget} and ${String(result.messageCount)} messages so far. Tell me which room and how many square metres (for example "12 m² kitchen, premium finish") and I will estimate the cost.`;
    }
    return `Done: ${JSON.stringify(result)}.`;
  });
  return `${sentences.join(' ')}${NOTE}`;
}

function estimateArgs(text: string): Record<string, unknown> | undefined {
  const lower = text.toLowerCase();
  const room = Object.keys(ROOMS).find((name) => lower.includes(name));
  const area = /(\d+(?:[.,]\d+)?)\s*(?:m2|m²|sqm|sq\.? ?m|square met)/.exec(lower);
  if (room === undefined || area?.[1] === undefined) return undefined;
  const finish = /premium|luxury|high.end/.test(lower)
    ? 'premium'
    : /basic|cheap|budget finish/.test(lower)
      ? 'basic'
      : 'standard';
  return { room: ROOMS[room], areaSqm: Number(area[1].replace(',', '.')), finish };
}

function budgetArgs(text: string): Record<string, unknown> | undefined {
  const match = /budget\D{0,20}?([\d][\d,.]*)\s*(k)?/i.exec(text);
  if (match?.[1] === undefined) return undefined;
  const amount = Number(match[1].replace(/[,.](?=\d{3}\b)/g, '').replace(',', '.')) * (match[2] ? 1000 : 1);
  return Number.isFinite(amount) && amount > 0 ? { budgetCents: Math.round(amount * 100) } : undefined;
}

export function renovationReply(body: GeminiRequestBody | undefined): StandInTurn {
  const last = body?.contents?.at(-1);
  const parts = last?.parts ?? [];
  const responses = parts.filter((part) => part.functionResponse !== undefined);
  if (responses.length > 0) {
    const text = answerFromTools(responses, askedForPlan(body));
    return { text, usage: usageFor(body, text) };
  }
  const text = parts.map((part) => part.text ?? '').join(' ');
  const tools = declaredTools(body);
  const call = (name: string, args: Record<string, unknown>): StandInTurn => ({
    functionCalls: [{ name, args }],
    usage: usageFor(body, JSON.stringify(args)),
  });
  if (/renovation plan/i.test(text) && tools.has('get_session_details')) return call('get_session_details', {});
  const estimate = estimateArgs(text);
  if (estimate && tools.has('estimate_renovation_cost')) return call('estimate_renovation_cost', estimate);
  const budget = budgetArgs(text);
  if (budget && tools.has('update_session_budget')) return call('update_session_budget', budget);
  if (tools.has('get_session_details')) return call('get_session_details', {});
  const reply = `Happy to help with your renovation. Tell me the room and its size and I will estimate the cost.${NOTE}`;
  return { text: reply, usage: usageFor(body, reply) };
}
