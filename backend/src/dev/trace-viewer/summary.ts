import * as names from './names';
import type { StoredSpan } from './stored-span';

/** One row of the trace list. */
export interface TraceSummary {
  traceId: string;
  /** Name of the root span (or of the earliest span whose parent was not received). */
  rootName: string;
  /** What the list filters on as "operation": the root's route when it has one, else its name. */
  operation: string;
  services: string[];
  startTimeUnixNano: string;
  durationMs: number;
  spanCount: number;
  droppedSpans: number;
  errorCount: number;
  /** Present when the trace holds AI spans (`gen_ai.operation.name`). */
  ai?: { spans: number; inputTokens: number; outputTokens: number; cost?: number; currency?: string };
}

const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

export function serviceOf(span: StoredSpan): string {
  const service = span.resource[names.SERVICE_NAME];
  return typeof service === 'string' && service !== '' ? service : 'unknown_service';
}

export function costOf(span: StoredSpan): number | undefined {
  for (const name of names.GEN_AI_COST) {
    const cost = num(span.attributes[name]);
    if (cost !== undefined) return cost;
  }
  return undefined;
}

export function currencyOf(span: StoredSpan): string | undefined {
  const currency = span.attributes[names.GEN_AI_COST_CURRENCY];
  if (typeof currency === 'string') return currency;
  return num(span.attributes[names.GEN_AI_COST_USD]) !== undefined ? 'USD' : undefined;
}

function hasUsage(span: StoredSpan): boolean {
  return (
    num(span.attributes[names.GEN_AI_INPUT_TOKENS]) !== undefined ||
    num(span.attributes[names.GEN_AI_OUTPUT_TOKENS]) !== undefined ||
    costOf(span) !== undefined
  );
}

/** The root: a span without parent, else the earliest whose parent is not here (a trace still arriving). */
export function rootOf(spans: readonly StoredSpan[]): StoredSpan | undefined {
  const ids = new Set(spans.map((span) => span.spanId));
  const tops = spans.filter((span) => span.parentSpanId === undefined || !ids.has(span.parentSpanId));
  const earliest = (list: StoredSpan[]) =>
    list.reduce<StoredSpan | undefined>(
      (a, b) => (a === undefined || BigInt(b.startTimeUnixNano) < BigInt(a.startTimeUnixNano) ? b : a),
      undefined,
    );
  return earliest(tops.filter((span) => span.parentSpanId === undefined)) ?? earliest(tops) ?? spans[0];
}

/**
 * Token and cost totals count each model call once: a span that reports usage while one
 * of its descendants does too (an agent run summing its model calls) is left out.
 */
function aiTotals(spans: readonly StoredSpan[]): TraceSummary['ai'] {
  const aiSpans = spans.filter((span) => span.attributes[names.GEN_AI_OPERATION_NAME] !== undefined);
  if (aiSpans.length === 0) return undefined;
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const coveredByChild = new Set<string>();
  for (const span of spans.filter(hasUsage)) {
    const seen = new Set<string>();
    for (
      let parent = span.parentSpanId;
      parent !== undefined && !seen.has(parent);
      parent = byId.get(parent)?.parentSpanId
    ) {
      seen.add(parent);
      coveredByChild.add(parent);
    }
  }
  let inputTokens = 0;
  let outputTokens = 0;
  let cost: number | undefined;
  const currencies = new Set<string>();
  for (const span of spans) {
    if (!hasUsage(span) || coveredByChild.has(span.spanId)) continue;
    inputTokens += num(span.attributes[names.GEN_AI_INPUT_TOKENS]) ?? 0;
    outputTokens += num(span.attributes[names.GEN_AI_OUTPUT_TOKENS]) ?? 0;
    const spanCost = costOf(span);
    if (spanCost !== undefined) cost = (cost ?? 0) + spanCost;
    const currency = currencyOf(span);
    if (currency !== undefined) currencies.add(currency);
  }
  const [currency] = currencies;
  return {
    spans: aiSpans.length,
    inputTokens,
    outputTokens,
    ...(cost !== undefined ? { cost } : {}),
    ...(currencies.size === 1 && currency !== undefined ? { currency } : {}),
  };
}

export function summarize(traceId: string, spans: readonly StoredSpan[], droppedSpans: number): TraceSummary {
  const root = rootOf(spans);
  let start: bigint | undefined;
  let end: bigint | undefined;
  for (const span of spans) {
    const s = BigInt(span.startTimeUnixNano);
    const e = BigInt(span.endTimeUnixNano);
    if (start === undefined || s < start) start = s;
    if (end === undefined || e > end) end = e;
  }
  const route = root?.attributes[names.HTTP_ROUTE];
  const ai = aiTotals(spans);
  return {
    traceId,
    rootName: root?.name ?? '',
    operation:
      typeof route === 'string' && root !== undefined && !root.name.includes(route)
        ? `${root.name} ${route}`
        : (root?.name ?? ''),
    services: [...new Set(spans.map(serviceOf))].sort(),
    startTimeUnixNano: (start ?? 0n).toString(),
    durationMs: start === undefined || end === undefined ? 0 : Number(end - start) / 1e6,
    spanCount: spans.length,
    droppedSpans,
    errorCount: spans.filter((span) => span.status.code === 'ERROR').length,
    ...(ai !== undefined ? { ai } : {}),
  };
}
