// The trace list at /: recent traces, filters, search by trace id.
import { formatCost, formatMs, formatTime, formatTokens, h, serviceChip } from './render.js';
import { getJson, link, navigate, setStats, show } from './nav.js';

const searchInput = document.getElementById('search-input');

function aiCell(trace) {
  if (!trace.ai) return '';
  return h(
    'span',
    { class: 'ai-tag' },
    `AI ${formatTokens(trace.ai.inputTokens, trace.ai.outputTokens)}`,
    trace.ai.cost !== undefined ? ` · ${formatCost(trace.ai.cost, trace.ai.currency)}` : '',
  );
}

export async function listPage(params) {
  const query = new URLSearchParams();
  for (const key of ['service', 'operation', 'error', 'q']) if (params.get(key)) query.set(key, params.get(key));
  const { body } = await getJson(`/api/traces?${query}`);
  setStats(body.stats);
  document.title = 'Traces';
  searchInput.value = params.get('q') ?? '';

  const select = (name, label, options) =>
    h(
      'label',
      {},
      `${label} `,
      h(
        'select',
        { name, onchange: applyFilters },
        h('option', { value: '' }, 'all'),
        options.map((option) => h('option', { value: option, selected: params.get(name) === option }, option)),
      ),
    );
  function applyFilters() {
    const next = new URLSearchParams();
    for (const el of filters.querySelectorAll('select')) if (el.value) next.set(el.name, el.value);
    if (filters.querySelector('input[name=error]').checked) next.set('error', 'true');
    if (params.get('q')) next.set('q', params.get('q'));
    navigate(`/?${next}`);
  }
  const filters = h(
    'form',
    {
      class: 'filters',
      onsubmit: (event) => {
        event.preventDefault();
        applyFilters();
      },
    },
    select('service', 'Service', body.services ?? []),
    select('operation', 'Operation', body.operations ?? []),
    h(
      'label',
      {},
      h('input', { type: 'checkbox', name: 'error', checked: params.get('error') === 'true', onchange: applyFilters }),
      ' errors only',
    ),
    h('button', { type: 'button', onclick: () => listPage(params) }, 'Refresh'),
    params.get('q') ? h('span', { class: 'muted' }, ` search: ${params.get('q')} `, link('/', 'clear')) : null,
  );

  const traces = body.traces ?? [];
  const rows = traces.map((trace) =>
    h(
      'tr',
      { class: trace.errorCount > 0 ? 'error' : '', dataset: { traceId: trace.traceId } },
      h('td', { class: 'nowrap' }, formatTime(trace.startTimeUnixNano)),
      h(
        'td',
        {},
        link(`/trace/${trace.traceId}`, trace.rootName || '(no root)'),
        trace.errorCount > 0
          ? h('span', { class: 'error-mark', title: `${trace.errorCount} error span(s)` }, ` ⚠ ${trace.errorCount}`)
          : null,
      ),
      h('td', {}, trace.services.map(serviceChip)),
      h('td', { class: 'num' }, formatMs(trace.durationMs)),
      h('td', { class: 'num' }, String(trace.spanCount)),
      h('td', {}, aiCell(trace)),
      h('td', { class: 'mono muted' }, trace.traceId),
    ),
  );
  const empty = params.get('q')
    ? `No trace matches “${params.get('q')}” (yet: spans arrive a few seconds after the request).`
    : 'No traces yet. Point an OTLP/HTTP exporter at this viewer (the default http://localhost:4318 already is) and make a request.';
  show(
    filters,
    traces.length === 0
      ? h('p', { class: 'muted empty' }, empty)
      : h(
          'table',
          { class: 'traces' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Start', 'Root', 'Services', 'Duration', 'Spans', 'AI', 'Trace id'].map((label) => h('th', {}, label)),
            ),
          ),
          h('tbody', {}, rows),
        ),
    body.matched > traces.length ? h('p', { class: 'muted' }, `${traces.length} of ${body.matched} shown`) : null,
  );
}
