// What both pages share: fetching the API, in-page navigation, the page's main area.
import { h } from './render.js';

const main = document.getElementById('main');

export async function getJson(url) {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  const body = await response.json().catch(() => ({}));
  return { status: response.status, body };
}

/** Moves to `url` without a page load; app.js routes on the popstate event. */
export function navigate(url) {
  history.pushState(null, '', url);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function link(href, ...children) {
  return h(
    'a',
    {
      href,
      onclick: (event) => {
        if (event.button === 0 && !event.metaKey && !event.ctrlKey) {
          event.preventDefault();
          navigate(href);
        }
      },
    },
    ...children,
  );
}

export function setStats(stats) {
  document.getElementById('stats').textContent = stats
    ? `${stats.traces} of at most ${stats.maxTraces} traces held`
    : '';
}

/** Replaces the page's content; absent parts (null, undefined, false) are left out. */
export function show(...parts) {
  main.replaceChildren(...parts.filter((part) => part !== null && part !== undefined && part !== false));
}
