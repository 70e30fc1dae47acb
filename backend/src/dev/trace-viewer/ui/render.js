// DOM building from text only: every value from a span reaches the page through
// textContent or an attribute setter, never as HTML, so span data cannot inject markup.

/** h('div', {class: 'x', onclick: fn, dataset: {a: '1'}}, 'text', child, [more]) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style') Object.assign(el.style, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function formatMs(ms) {
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function nsToDate(ns) {
  return new Date(Number(BigInt(ns) / 1_000_000n));
}

export function formatTime(ns) {
  const date = nsToDate(ns);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function formatCost(cost, currency) {
  if (cost === undefined || cost === null) return '';
  const digits = cost !== 0 && cost < 0.01 ? 6 : 4;
  return `${cost.toFixed(digits)}${currency ? ` ${currency}` : ''}`;
}

export function formatTokens(input, output) {
  return `${input ?? 0} in / ${output ?? 0} out`;
}

/** A value as text: strings as they are, everything else as JSON. */
export function valueText(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const palette = ['#2f6fdf', '#d9730d', '#0f8f6e', '#9b51e0', '#c93c5a', '#6b7f0a', '#0b7fa8', '#8a5a2b'];
const colours = new Map();
export function serviceColour(service) {
  if (!colours.has(service)) colours.set(service, palette[colours.size % palette.length]);
  return colours.get(service);
}

export function serviceChip(service) {
  const chip = h('span', { class: 'chip' }, service);
  chip.style.borderColor = serviceColour(service);
  return chip;
}

export function table(rows, className = 'kv') {
  return h(
    'table',
    { class: className },
    h(
      'tbody',
      {},
      rows.map(([key, value]) =>
        h('tr', {}, h('th', {}, key), h('td', {}, value instanceof Node ? value : valueText(value))),
      ),
    ),
  );
}

export function section(title, ...content) {
  return h('section', { class: 'panel-section' }, h('h3', {}, title), ...content);
}
