// The trace viewer's page: the trace list at /, a trace at /trace/<id>. Plain DOM, no build.
import { listPage } from './list.js';
import { navigate, show } from './nav.js';
import { h } from './render.js';
import { tracePage } from './trace.js';

const searchForm = document.getElementById('search');
const searchInput = document.getElementById('search-input');

async function route() {
  const match = /^\/trace\/([^/]+)$/.exec(location.pathname);
  const params = new URLSearchParams(location.search);
  try {
    if (match) await tracePage(decodeURIComponent(match[1]), params.get('span') ?? undefined);
    else await listPage(params);
  } catch (error) {
    show(h('p', { class: 'error' }, `Could not load: ${error.message}`));
  }
}

searchForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const q = searchInput.value.trim();
  navigate(q ? `/?q=${encodeURIComponent(q)}` : '/');
});
window.addEventListener('popstate', route);
route();
