// A trace at /trace/<id>: the waterfall and the span panel.
import { agentRunSection, aiBadge, aiSection, isAi, OPERATION } from './ai.js';
import { getJson, link, show } from './nav.js';
import {
  formatCost,
  formatMs,
  formatTime,
  formatTokens,
  h,
  section,
  serviceChip,
  serviceColour,
  table,
  valueText,
} from './render.js';

const durationNs = (span) => BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano);

/** Spans in tree order with their depth; spans whose parent is missing are tops. */
function treeOrder(spans) {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map();
  for (const span of spans) {
    const parent = span.parentSpanId !== undefined && ids.has(span.parentSpanId) ? span.parentSpanId : '';
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(span);
  }
  const out = [];
  const seen = new Set();
  const walk = (parent, depth) => {
    for (const span of children.get(parent) ?? []) {
      if (seen.has(span.spanId)) continue;
      seen.add(span.spanId);
      out.push({ span, depth });
      walk(span.spanId, depth + 1);
    }
  };
  walk('', 0);
  for (const span of spans) if (!seen.has(span.spanId)) out.push({ span, depth: 0 });
  return out;
}

function spanPanel(span, trace, select) {
  const start = BigInt(trace.summary.startTimeUnixNano);
  const service = span.resource['service.name'] ?? 'unknown_service';
  const facts = [
    ['service', serviceChip(service)],
    ['kind', span.kind],
    ['status', span.status.code + (span.status.message ? `: ${span.status.message}` : '')],
    ['duration', formatMs(Number(durationNs(span)) / 1e6)],
    ['starts at', `+${formatMs(Number(BigInt(span.startTimeUnixNano) - start) / 1e6)}`],
    ['span id', span.spanId],
    ['parent span id', span.parentSpanId ?? '(root)'],
    ['scope', `${span.scope.name}${span.scope.version ? ` ${span.scope.version}` : ''}`],
  ];
  const sql = span.attributes['db.query.text'];
  const attributes = Object.keys(span.attributes)
    .sort()
    .map((key) => [key, span.attributes[key]]);
  return h(
    'aside',
    { class: 'span-panel', id: 'span-panel', dataset: { spanId: span.spanId } },
    h('h2', { class: span.status.code === 'ERROR' ? 'error' : '' }, span.name),
    table(facts),
    isAi(span) ? aiSection(span) : null,
    span.attributes[OPERATION] === 'invoke_agent' ? agentRunSection(span, trace.spans, select) : null,
    typeof sql === 'string' ? section('SQL', h('pre', { class: 'code sql' }, sql)) : null,
    section(
      `Attributes (${attributes.length})`,
      attributes.length ? table(attributes) : h('p', { class: 'muted' }, 'none'),
    ),
    span.events.length
      ? section(
          `Events (${span.events.length})`,
          span.events.map((event) => {
            const at = `+${formatMs(Number(BigInt(event.timeUnixNano) - start) / 1e6)}`;
            const { 'exception.stacktrace': stack, ...rest } = event.attributes;
            return h(
              'div',
              { class: `event${event.name === 'exception' ? ' exception' : ''}` },
              h('div', { class: 'label' }, event.name, h('span', { class: 'muted' }, ` ${at}`)),
              Object.keys(rest).length ? table(Object.entries(rest)) : null,
              stack !== undefined ? h('pre', { class: 'code stack' }, valueText(stack)) : null,
            );
          }),
        )
      : null,
    span.links.length
      ? section(
          `Links (${span.links.length})`,
          span.links.map((l) =>
            h(
              'div',
              { class: 'link' },
              link(`/trace/${l.traceId}`, `trace ${l.traceId}`),
              ` span ${l.spanId}`,
              Object.keys(l.attributes).length ? table(Object.entries(l.attributes)) : null,
            ),
          ),
        )
      : null,
    section(
      'Resource',
      table(
        Object.keys(span.resource)
          .sort()
          .map((key) => [key, span.resource[key]]),
      ),
    ),
  );
}

function waterfall(trace, selectedId, select) {
  const start = BigInt(trace.summary.startTimeUnixNano);
  const total =
    Number(
      trace.spans.reduce(
        (end, span) => (BigInt(span.endTimeUnixNano) > end ? BigInt(span.endTimeUnixNano) : end),
        start,
      ) - start,
    ) || 1;
  const pct = (ns) => `${((Number(ns) / total) * 100).toFixed(3)}%`;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const tick = h('span', { class: 'tick' }, formatMs((total * f) / 1e6));
    tick.style.left = `${f * 100}%`;
    tick.style.transform = `translateX(-${f * 100}%)`;
    return tick;
  });
  const rows = treeOrder(trace.spans).map(({ span, depth }) => {
    const service = span.resource['service.name'] ?? 'unknown_service';
    const label = h(
      'div',
      { class: 'label' },
      h('span', { class: 'dot', title: service }),
      h('span', { class: 'name' }, span.name),
      h('span', { class: `kind kind-${span.kind.toLowerCase()}` }, span.kind.toLowerCase()),
      isAi(span) && aiBadge(span) ? h('span', { class: 'ai-tag', title: aiBadge(span) }, aiBadge(span)) : null,
    );
    label.style.paddingLeft = `${depth * 14 + 4}px`;
    label.firstChild.style.background = serviceColour(service);
    const bar = h('div', { class: 'bar' });
    bar.style.left = pct(BigInt(span.startTimeUnixNano) - start);
    bar.style.width = `max(2px, ${pct(durationNs(span))})`;
    bar.style.background = span.status.code === 'ERROR' ? '#d93025' : serviceColour(service);
    const timing = h('span', { class: 'timing' }, formatMs(Number(durationNs(span)) / 1e6));
    // the duration sits after the bar, or before it when the bar reaches the right edge
    const offset = BigInt(span.startTimeUnixNano) - start;
    if (Number(offset + durationNs(span)) / total > 0.8) timing.style.right = `calc(100% - ${pct(offset)} + 4px)`;
    else timing.style.left = `calc(${pct(offset + durationNs(span))} + 4px)`;
    return h(
      'div',
      {
        class: `row${span.spanId === selectedId ? ' selected' : ''}${span.status.code === 'ERROR' ? ' error' : ''}`,
        role: 'button',
        tabindex: '0',
        dataset: { spanId: span.spanId, ...(isAi(span) ? { ai: span.attributes[OPERATION] } : {}) },
        onclick: () => select(span.spanId),
        onkeydown: (event) => {
          if (event.key === 'Enter') select(span.spanId);
        },
      },
      label,
      h('div', { class: 'track' }, bar, timing),
    );
  });
  return h(
    'div',
    { class: 'waterfall', id: 'waterfall' },
    h('div', { class: 'row head' }, h('div', { class: 'label' }, 'Span'), h('div', { class: 'track' }, ticks)),
    rows,
  );
}

export async function tracePage(traceId, spanId, attempt = 0) {
  const { status, body } = await getJson(`/api/traces/${encodeURIComponent(traceId)}`);
  if (status === 404) {
    // a link from a log line is printed before the spans are exported: wait for them a while
    show(
      h(
        'p',
        { class: 'muted empty' },
        `Trace ${traceId} is not here ${attempt < 30 ? 'yet; waiting for its spans…' : '(it never arrived, or was evicted).'}`,
      ),
      link('/', 'All traces'),
    );
    if (attempt < 30 && location.pathname === `/trace/${traceId}`)
      setTimeout(() => tracePage(traceId, spanId, attempt + 1), 1000);
    return;
  }
  const trace = body;
  const s = trace.summary;
  document.title = `${s.rootName} · trace ${traceId.slice(0, 8)}`;
  let selected = spanId && trace.spans.some((span) => span.spanId === spanId) ? spanId : undefined;
  const select = (id) => {
    selected = id;
    history.replaceState(null, '', `/trace/${traceId}?span=${id}`);
    render();
  };
  const header = h(
    'div',
    { class: 'trace-head' },
    h(
      'h1',
      {},
      s.rootName || '(no root)',
      s.errorCount > 0
        ? h('span', { class: 'error-mark' }, ` ⚠ ${s.errorCount} error${s.errorCount > 1 ? 's' : ''}`)
        : null,
    ),
    h(
      'div',
      { class: 'facts' },
      h('span', { class: 'mono' }, s.traceId),
      h('span', {}, formatTime(s.startTimeUnixNano)),
      h('span', {}, formatMs(s.durationMs)),
      h('span', {}, `${s.spanCount} spans${s.droppedSpans ? ` (+${s.droppedSpans} dropped)` : ''}`),
      s.services.map(serviceChip),
      s.ai
        ? h(
            'span',
            { class: 'ai-tag' },
            `AI ${formatTokens(s.ai.inputTokens, s.ai.outputTokens)}${s.ai.cost !== undefined ? ` · ${formatCost(s.ai.cost, s.ai.currency)}` : ''}`,
          )
        : null,
      h(
        'button',
        { type: 'button', title: 'spans that arrived since are added', onclick: () => tracePage(traceId, selected) },
        'Reload',
      ),
      link('/', 'All traces'),
    ),
  );
  function render() {
    const span = trace.spans.find((candidate) => candidate.spanId === selected);
    const scroll = document.getElementById('waterfall')?.scrollTop;
    show(
      header,
      h(
        'div',
        { class: 'trace-body' },
        waterfall(trace, selected, select),
        span
          ? spanPanel(span, trace, select)
          : h('aside', { class: 'span-panel muted' }, 'Click a span to see its details.'),
      ),
    );
    if (scroll !== undefined) document.getElementById('waterfall').scrollTop = scroll;
  }
  render();
}
