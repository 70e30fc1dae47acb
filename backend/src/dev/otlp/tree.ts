import type { ReceivedSpan } from './decode';

/** Navigating and printing decoded spans as trees. */

export function childrenOf(spans: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  return spans.filter((s) => s.traceId === span.traceId && s.parentSpanId === span.spanId);
}

/** The parent chain of `span`, nearest first, as far as it is present in `spans`. */
export function ancestorsOf(spans: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const ancestors: ReceivedSpan[] = [];
  const seen = new Set<string>([span.spanId]);
  let current = span;
  while (current.parentSpanId !== undefined && !seen.has(current.parentSpanId)) {
    const parentId = current.parentSpanId;
    const parent = spans.find((s) => s.traceId === current.traceId && s.spanId === parentId);
    if (parent === undefined) break;
    ancestors.push(parent);
    seen.add(parent.spanId);
    current = parent;
  }
  return ancestors;
}

function hasParentIn(spans: readonly ReceivedSpan[], span: ReceivedSpan): boolean {
  return (
    span.parentSpanId !== undefined && spans.some((s) => s.traceId === span.traceId && s.spanId === span.parentSpanId)
  );
}

/**
 * The first span with no parent, else the first whose parent is not in `spans`
 * (a local root, e.g. a server span continuing a caller's `traceparent`).
 */
export function findRoot(spans: readonly ReceivedSpan[]): ReceivedSpan | undefined {
  return spans.find((s) => s.parentSpanId === undefined) ?? spans.find((s) => !hasParentIn(spans, s));
}

/** Indented span names grouped by trace, for assertion failure messages. */
export function formatTree(spans: readonly ReceivedSpan[]): string {
  if (spans.length === 0) return '(no spans)';
  const lines: string[] = [];
  const printed = new Set<ReceivedSpan>();
  const print = (span: ReceivedSpan, depth: number): void => {
    if (printed.has(span)) return;
    printed.add(span);
    const error = span.status.code === 'ERROR' ? ` ERROR${span.status.message ? `: ${span.status.message}` : ''}` : '';
    lines.push(`${'  '.repeat(depth)}${span.name} [${span.kind}]${error}`);
    for (const child of childrenOf(spans, span)) print(child, depth + 1);
  };
  for (const traceId of new Set(spans.map((s) => s.traceId))) {
    lines.push(`trace ${traceId}`);
    const inTrace = spans.filter((s) => s.traceId === traceId);
    for (const top of inTrace.filter((s) => !hasParentIn(inTrace, s))) print(top, 1);
    // Spans in a parent cycle have no top; print them anyway rather than hide them.
    for (const rest of inTrace) print(rest, 1);
  }
  return lines.join('\n');
}
