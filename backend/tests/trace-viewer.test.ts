import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { get } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StoredSpan } from '../src/dev/trace-viewer/stored-span';
import { startGeminiStandIn, type GeminiStandIn } from '../src/dev/gemini-stand-in/server';
import { connectChat } from '../testing/chat-client';
import { api, ROOT, startServer, TEST_JWT_SECRET, type ServerProcess } from '../testing/server-process';
import { newUserSession } from '../testing/stack';
import { startViewer, waitForApi, type ViewerProcess } from '../testing/trace-viewer';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `\n⚠️  ${CHROMIUM} is missing: the trace viewer's browser test is SKIPPED (apt-get install -y chromium; .ci/run does).\n`,
  );
}
const OUTPUT = path.join(ROOT, 'test-output/trace-viewer');

const newTraceId = () => randomBytes(16).toString('hex');

function tree(spans: StoredSpan[]): string {
  const lines: string[] = [];
  const print = (span: StoredSpan, depth: number) => {
    lines.push(`${'  '.repeat(depth)}${span.name} [${span.kind}]`);
    for (const child of spans.filter((s) => s.parentSpanId === span.spanId)) print(child, depth + 1);
  };
  const ids = new Set(spans.map((s) => s.spanId));
  for (const top of spans.filter((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId))) print(top, 0);
  return lines.join('\n');
}

describe('the local trace viewer (npm run traces) receiving the real backend', () => {
  let viewer: ViewerProcess;
  let gemini: GeminiStandIn;
  let server: ServerProcess;
  const chatTraceId = newTraceId();
  let httpTraceId: string;
  let sessionId: string;

  beforeAll(async () => {
    viewer = await startViewer();
    gemini = await startGeminiStandIn({ chunkDelayMs: 0 });
    // As a developer runs it: development mode, and of OTLP only the endpoint, which the
    // default (http://localhost:4318) would be if the viewer ran on its default port.
    server = await startServer({
      env: {
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: '0',
        DATABASE_URL: inject('databaseUrl'),
        JWT_SECRET: TEST_JWT_SECRET,
        GEMINI_BASE_URL: gemini.baseUrl,
        GEMINI_API_KEY: 'test-key-not-secret',
        GEMINI_MAX_RETRIES: '0',
        OTEL_EXPORTER_OTLP_ENDPOINT: viewer.otlpUrl,
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
        TRACE_VIEWER_URL: viewer.uiUrl,
      },
    });
  });

  afterAll(async () => {
    await server?.stop();
    await gemini?.close();
    await viewer?.stop();
  });

  it('when a request and a chat are made, then the viewer holds both traces with their trees, and the log links the request to its trace', async () => {
    const session = await newUserSession(server, { title: 'Bathroom refit' });
    sessionId = session.sessionId;
    const created = await server.waitForLog(
      (line) => line.msg === 'request completed' && line.route === '/api/sessions' && line.method === 'POST',
    );
    httpTraceId = String(created!.trace_id);
    expect(created!.trace_url).toBe(`${viewer.uiUrl}/trace/${httpTraceId}`);
    // a caller that decided not to sample gets no link: there will be no trace to open
    const unsampled = newTraceId();
    await api(server, 'GET', `/api/sessions/${session.sessionId}`, {
      token: session.token,
      headers: { traceparent: `00-${unsampled}-00f067aa0ba902b7-00` },
    });
    const unsampledLine = await server.waitForLog(
      (line) => line.msg === 'request completed' && line.trace_id === unsampled,
    );
    expect(unsampledLine.trace_url).toBeUndefined();

    gemini.enqueue(
      {
        functionCalls: [
          { name: 'estimate_renovation_cost', args: { room: 'bathroom', areaSqm: 6, finish: 'premium' } },
        ],
        usage: { promptTokens: 100, candidatesTokens: 10, thoughtsTokens: 5 },
      },
      { text: 'A premium 6 m² bathroom comes to about €15,000.', usage: { promptTokens: 150, candidatesTokens: 40 } },
    );
    const chat = await connectChat(server.url, { token: session.token, headers: { 'x-trace-id': chatTraceId } });
    expect(await chat.send({ sessionId, content: 'What would a premium 6 m2 bathroom cost?' })).toMatchObject({
      ok: true,
    });
    const reply = await chat.nextReply();
    chat.close();
    expect(reply.error).toBeUndefined();

    // the HTTP request: server span → its INSERT, one service
    // the server span ends last, so once it is here the trace is complete
    const http = await waitForApi(viewer, `/api/traces/${httpTraceId}`, (body) =>
      body.spans.some((s: StoredSpan) => s.kind === 'SERVER'),
    );
    const httpSpans = http.spans as StoredSpan[];
    const root = httpSpans.find((s) => s.parentSpanId === undefined)!;
    expect(root, tree(httpSpans)).toMatchObject({ name: 'POST /api/sessions', kind: 'SERVER' });
    expect(root.resource['service.name']).toBe('renovation-agent-backend');
    expect(
      httpSpans.find((s) => s.name === 'INSERT renovation_sessions'),
      tree(httpSpans),
    ).toMatchObject({ parentSpanId: root.spanId, kind: 'CLIENT' });
    expect(http.summary).toMatchObject({
      traceId: httpTraceId,
      rootName: 'POST /api/sessions',
      services: ['renovation-agent-backend'],
      errorCount: 0,
    });
    expect(http.summary.ai).toBeUndefined();

    // the chat: connection → event → agent run → nodes → model calls and the tool → SQL
    // the event's span ends last (after the reply is stored): once it is here the trace is complete
    const chatTrace = await waitForApi(viewer, `/api/traces/${chatTraceId}`, (body) =>
      body.spans.some((s: StoredSpan) => s.name === 'socket.io chat:user_message'),
    );
    const spans = chatTrace.spans as StoredSpan[];
    const shape = tree(spans);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (span: StoredSpan) => (span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId));
    const run = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'invoke_agent')!;
    expect(parentOf(run)?.name, shape).toBe('socket.io chat:user_message');
    expect(parentOf(parentOf(run)!)?.name, shape).toBe('socket.io connection');
    const calls = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(
      calls.map((s) => [s.attributes['gen_ai.usage.input_tokens'], s.attributes['gen_ai.usage.output_tokens']]),
      shape,
    ).toEqual([
      [100, 15],
      [150, 40],
    ]);
    for (const call of calls) expect(parentOf(parentOf(call)!)?.spanId, shape).toBe(run.spanId);
    const tool = spans.find((s) => s.attributes['gen_ai.tool.name'] === 'estimate_renovation_cost')!;
    expect(parentOf(parentOf(tool)!)?.spanId, shape).toBe(run.spanId);
    expect(
      spans
        .filter((s) => s.parentSpanId === tool.spanId)
        .map((s) => s.name)
        .sort(),
      shape,
    ).toEqual(['SELECT renovation_prices', 'SELECT renovation_sessions']);
    expect(chatTrace.summary).toMatchObject({
      traceId: chatTraceId,
      rootName: 'socket.io connection',
      spanCount: spans.length,
    });
    expect(chatTrace.summary.ai).toMatchObject({ inputTokens: 250, outputTokens: 55, currency: 'USD' });
    expect(chatTrace.summary.ai.cost).toBeGreaterThan(0);

    // the list: found by the pasted id (upper case, or inside a traceparent), filtered by service
    const found = await viewer.get(`/api/traces?q=${chatTraceId.toUpperCase()}`);
    expect(found.body.traces.map((t: { traceId: string }) => t.traceId)).toEqual([chatTraceId]);
    const traceparent = await viewer.get(`/api/traces?q=00-${chatTraceId}-00f067aa0ba902b7-01`);
    expect(traceparent.body.traces).toHaveLength(1);
    const listed = await viewer.get('/api/traces?service=renovation-agent-backend');
    expect(listed.body.traces.map((t: { traceId: string }) => t.traceId)).toEqual(
      expect.arrayContaining([chatTraceId, httpTraceId]),
    );
    expect((await viewer.get('/api/traces?service=nobody')).body.traces).toEqual([]);
    expect(
      (await viewer.get(`/api/traces?operation=${encodeURIComponent('POST /api/sessions')}`)).body.traces.map(
        (t: { traceId: string }) => t.traceId,
      ),
    ).toContain(httpTraceId);
    expect(
      (await viewer.get('/api/traces?error=true')).body.traces.map((t: { traceId: string }) => t.traceId),
    ).not.toContain(httpTraceId);
    expect(await viewer.get('/api/traces?limit=zero')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_query' } },
    });
    expect(await viewer.get(`/api/traces/${newTraceId()}`)).toMatchObject({
      status: 404,
      body: { error: { code: 'trace_not_found' } },
    });
    // a page on another origin that rebinds its name to 127.0.0.1 is refused
    // (node:http, because fetch does not let a caller set Host)
    const status = (host: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        get(`${viewer.uiUrl}/api/stats`, { headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        }).on('error', reject);
      });
    expect(await status('attacker.example:16686')).toBe(403);
    expect(await status('localhost:16686')).toBe(200);
  });

  it.skipIf(!hasChromium)(
    'when a developer opens the viewer in a browser, then they find the chat by its trace id and read its AI spans, and the log link opens the request',
    async () => {
      expect(httpTraceId, 'the first test made the traces').toBeDefined();
      // an export carrying markup in every field a page shows: it must stay text
      const hostile = newTraceId();
      const attack = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
      const response = await fetch(`${viewer.otlpUrl}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          resourceSpans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: attack } }] },
              scopeSpans: [
                {
                  scope: { name: attack },
                  spans: [
                    {
                      traceId: hostile,
                      spanId: '1111111111111111',
                      name: attack,
                      kind: 2,
                      startTimeUnixNano: '1000000',
                      endTimeUnixNano: '2000000',
                      attributes: [
                        { key: attack, value: { stringValue: attack } },
                        { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                        {
                          key: 'gen_ai.input.messages',
                          value: {
                            stringValue: JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: attack }] }]),
                          },
                        },
                      ],
                      events: [
                        {
                          name: 'exception',
                          timeUnixNano: '1500000',
                          attributes: [{ key: 'exception.stacktrace', value: { stringValue: attack } }],
                        },
                      ],
                      status: { code: 2, message: attack },
                    },
                  ],
                },
              ],
            },
          ],
        }),
      });
      expect(response.status).toBe(200);

      await rm(OUTPUT, { recursive: true, force: true });
      await mkdir(OUTPUT, { recursive: true });
      const profile = await mkdtemp(path.join(tmpdir(), 'trace-viewer-chromium-'));
      let browser: BrowserContext | undefined;
      try {
        browser = await chromium.launchPersistentContext(profile, {
          executablePath: CHROMIUM,
          headless: true,
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
          ],
          viewport: { width: 1500, height: 950 },
        });
        const page = await browser.newPage();
        const pageErrors: string[] = [];
        page.on('pageerror', (error) => pageErrors.push(error.message));

        // the list, then the chat found by the x-trace-id value pasted into the search box
        await page.goto(viewer.uiUrl);
        await page.locator('table.traces').waitFor();
        await page.screenshot({ path: path.join(OUTPUT, 'list.png') });
        // the error filter keeps the one trace with an ERROR span
        await page.check('input[name=error]');
        await page.waitForURL('**/?error=true');
        await expect.poll(() => page.locator('table.traces tbody tr').count()).toBe(1);
        expect(await page.locator(`tr[data-trace-id="${hostile}"]`).count()).toBe(1);
        await page.fill('#search-input', chatTraceId);
        await page.press('#search-input', 'Enter');
        await page.waitForURL(`**/?q=${chatTraceId}`);
        await expect.poll(() => page.locator('table.traces tbody tr').count()).toBe(1);
        const row = page.locator(`tr[data-trace-id="${chatTraceId}"]`);
        expect(await row.textContent()).toContain('250 in / 55 out');
        await row.getByRole('link').click();
        await page.waitForURL(`**/trace/${chatTraceId}`);

        // the waterfall: the agent run, two model calls with their tokens
        await page.locator('#waterfall').waitFor();
        const aiRows = page.locator('#waterfall .row[data-ai="chat"]');
        expect(await aiRows.count()).toBe(2);
        expect(await aiRows.nth(0).textContent()).toContain('100 in / 15 out');
        expect(await aiRows.nth(1).textContent()).toContain('150 in / 40 out');
        await page.locator('#waterfall .row[data-ai="invoke_agent"]').click();
        const panel = page.locator('#span-panel');
        await expect
          .poll(() => panel.locator('ol.agent-run').textContent())
          .toMatch(/node agent[\s\S]*tool estimate_renovation_cost[\s\S]*node agent/);

        // a model call's panel: its figures; the second call's captured conversation holds the tool call and result
        await aiRows.nth(0).click();
        await expect.poll(() => panel.textContent()).toContain('100 in / 15 out');
        const first = (await panel.textContent()) ?? '';
        expect(first).toContain('gemini-2.5-flash');
        expect(first).toContain('time to first chunk');
        expect(first).toContain('finish reasons');
        await aiRows.nth(1).click();
        await expect.poll(() => panel.textContent()).toContain('150 in / 40 out');
        const conversation = panel.locator('.conversation');
        expect(await conversation.locator('.message.role-user').first().textContent()).toContain(
          'What would a premium 6 m2 bathroom cost?',
        );
        expect(await conversation.locator('.tool-call').first().textContent()).toContain(
          'tool call estimate_renovation_cost',
        );
        expect(await conversation.locator('.tool-result').count()).toBeGreaterThan(0);
        expect(await conversation.locator('.message.role-assistant').last().textContent()).toContain(
          'A premium 6 m² bathroom comes to about €15,000.',
        );
        await conversation.locator('.tool-call').first().scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(OUTPUT, 'chat-trace.png') });

        // the log line's link: the HTTP request's trace, its SQL in the panel
        const logged = server.logs().find((line) => line.trace_id === httpTraceId && line.msg === 'request completed')!;
        await page.goto(String(logged.trace_url));
        await page.locator('#waterfall').waitFor();
        await page.locator('#waterfall .row', { hasText: 'INSERT renovation_sessions' }).click();
        await expect.poll(() => panel.locator('pre.sql').textContent()).toMatch(/^insert into "renovation_sessions"/i);
        await page.screenshot({ path: path.join(OUTPUT, 'http-trace.png') });

        // span data stays text
        await page.goto(`${viewer.uiUrl}/trace/${hostile}`);
        await page.locator('#waterfall .row[data-span-id="1111111111111111"]').click();
        await panel.locator('.conversation').waitFor();
        expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
        expect(await page.locator('main img, main script').count()).toBe(0);
        expect(await panel.textContent()).toContain(attack);
        expect(pageErrors).toEqual([]);
      } finally {
        await browser?.close();
        await rm(profile, { recursive: true, force: true });
      }
    },
  );
});

/** One OTLP/JSON export of `traces` traces of `spansPerTrace` spans, each span carrying about 2 KiB. */
function exportBody(firstTrace: number, traces: number, spansPerTrace: number): string {
  const spans = [];
  for (let t = firstTrace; t < firstTrace + traces; t++) {
    const traceId = t.toString(16).padStart(32, '0');
    for (let s = 0; s < spansPerTrace; s++) {
      spans.push({
        traceId,
        spanId: (s + 1).toString(16).padStart(16, '0'),
        ...(s > 0 ? { parentSpanId: '0000000000000001' } : {}),
        name: s === 0 ? 'GET /load' : `SELECT load_${s}`,
        kind: s === 0 ? 2 : 3,
        startTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(t) * 1_000_000n + BigInt(s)),
        endTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(t) * 1_000_000n + 500_000n),
        attributes: [
          { key: 'db.query.text', value: { stringValue: `select ${String(t)}, ${String(s)} ${'x'.repeat(2048)}` } },
        ],
      });
    }
  }
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'load' } }] },
        scopeSpans: [{ scope: { name: 'load' }, spans }],
      },
    ],
  });
}

const traceIdOf = (n: number) => n.toString(16).padStart(32, '0');

describe('the trace viewer under load, across a restart, and in production', () => {
  const MAX_TRACES = 100;
  const PER_EXPORT = 10;
  let dir: string;
  let viewer: ViewerProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trace-viewer-'));
  });

  afterAll(async () => {
    await viewer?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function push(viewerProcess: ViewerProcess, first: number, exports: number): Promise<void> {
    for (let i = 0; i < exports; i++) {
      const response = await fetch(`${viewerProcess.otlpUrl}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: exportBody(first + i * PER_EXPORT, PER_EXPORT, 10),
      });
      expect(response.status).toBe(200);
    }
  }

  it('when far more traces arrive than the bound, then the oldest are evicted, RSS stays flat, and a restart keeps the newest from the file', async () => {
    const file = path.join(dir, '.data/traces.json');
    viewer = await startViewer({ TRACE_VIEWER_MAX_TRACES: String(MAX_TRACES), TRACE_VIEWER_FILE: file });

    // warm up until the heap has grown to its working size under this load (about 4000
    // traces here: RSS then stays within some 30 MiB, while an unbounded store grows by
    // some 30 MiB per 1000 traces)
    const WARM_UP = 4000;
    const MORE = 6000;
    await push(viewer, 1, WARM_UP / PER_EXPORT);
    const warm = (await viewer.get('/api/stats')).body;
    expect(warm).toMatchObject({ traces: MAX_TRACES, spans: MAX_TRACES * 10, evictedTraces: WARM_UP - MAX_TRACES });

    await push(viewer, WARM_UP + 1, MORE / PER_EXPORT);
    const after = (await viewer.get('/api/stats')).body;
    const last = WARM_UP + MORE;
    expect(after).toMatchObject({ traces: MAX_TRACES, spans: MAX_TRACES * 10, evictedTraces: last - MAX_TRACES });
    const growthMb = (after.rssBytes - warm.rssBytes) / 2 ** 20;
    console.info(
      `trace viewer RSS: ${(warm.rssBytes / 2 ** 20).toFixed(1)} MiB after ${WARM_UP} traces, ${(after.rssBytes / 2 ** 20).toFixed(1)} MiB after ${MORE} more (${growthMb.toFixed(1)} MiB)`,
    );
    expect(growthMb).toBeLessThan(64);

    expect((await viewer.get(`/api/traces/${traceIdOf(1)}`)).status).toBe(404);
    expect((await viewer.get(`/api/traces/${traceIdOf(last - MAX_TRACES)}`)).status).toBe(404);
    expect((await viewer.get(`/api/traces/${traceIdOf(last)}`)).body.spans).toHaveLength(10);
    const list = (await viewer.get('/api/traces?limit=1000')).body;
    expect(list.traces).toHaveLength(MAX_TRACES);
    expect(list.traces[0].traceId).toBe(traceIdOf(last));

    // stopping writes the file; a new viewer on it holds the same traces
    expect(await viewer.stop()).toMatchObject({ code: 0 });
    expect((await stat(file)).size).toBeGreaterThan(0);
    viewer = await startViewer({ TRACE_VIEWER_MAX_TRACES: String(MAX_TRACES), TRACE_VIEWER_FILE: file });
    expect((await viewer.get('/api/stats')).body).toMatchObject({ traces: MAX_TRACES, spans: MAX_TRACES * 10 });
    const restored = (await viewer.get(`/api/traces/${traceIdOf(last)}`)).body;
    expect(restored.summary).toMatchObject({ rootName: 'GET /load', spanCount: 10, services: ['load'] });
    expect((await viewer.get(`/api/traces/${traceIdOf(last - MAX_TRACES)}`)).status).toBe(404);
  });

  it('when the production build is made, then it holds no development tool (nothing in it imports one)', () => {
    // the test run's global setup built backend/dist with tsconfig.build.json, which excludes the
    // viewer, its OTLP decoding and `npm run dev` (the zero-config stand-ins in backend/src/dev are
    // part of the server); an import from the server would pull them in again
    expect(existsSync(path.join(ROOT, 'backend/dist/server.js'))).toBe(true);
    for (const tool of ['dev/trace-viewer', 'dev/otlp', 'dev/run-dev.js'])
      expect(existsSync(path.join(ROOT, 'backend/dist', tool)), tool).toBe(false);
  });

  it('when started with NODE_ENV=production, then it refuses and says why', async () => {
    const child = spawn('npm', ['run', '--silent', 'traces'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        NODE_ENV: 'production',
        TRACE_VIEWER_OTLP_PORT: '0',
        TRACE_VIEWER_UI_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(output).toContain('the trace viewer is a development tool and does not run with NODE_ENV=production');
    expect(output).not.toContain('trace viewer ready');
  });
});

describe('npm run dev', () => {
  it('when started, then the viewer and the backend both serve, and one Ctrl-C stops both cleanly', async () => {
    // its own process group, so that the "Ctrl-C" below reaches npm and everything it started, as a terminal's does
    const child = spawn('npm', ['run', '--silent', 'dev'], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: '0',
        DATABASE_URL: inject('databaseUrl'),
        JWT_SECRET: TEST_JWT_SECRET,
        TRACE_VIEWER_OTLP_PORT: '0',
        TRACE_VIEWER_UI_PORT: '0',
        OTEL_TRACES_EXPORTER: 'none',
      },
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const lines = () =>
      output.split('\n').flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
    try {
      const deadline = Date.now() + 90_000;
      while (
        Date.now() < deadline &&
        !(
          lines().some((l) => String(l.msg).startsWith('listening on')) &&
          lines().some((l) => String(l.msg).startsWith('trace viewer ready'))
        )
      ) {
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const backend = lines().find((l) => String(l.msg).startsWith('listening on'));
      const viewerReady = lines().find((l) => String(l.msg).startsWith('trace viewer ready'));
      expect(backend, output).toBeDefined();
      expect(viewerReady, output).toBeDefined();
      expect((await fetch(`http://127.0.0.1:${String(backend!.port)}/health`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${String(viewerReady!.uiPort)}/api/stats`)).status).toBe(200);

      process.kill(-child.pid!, 'SIGINT');
      const [code] = await exited;
      expect(code, output).toBe(0);
      expect(lines().some((l) => l.msg === 'trace viewer stopping')).toBe(true);
      expect(lines().find((l) => l.msg === 'shutdown complete')).toMatchObject({ reason: 'SIGINT', exitCode: 0 });
      await expect(fetch(`http://127.0.0.1:${String(backend!.port)}/health`)).rejects.toThrow();
      await expect(fetch(`http://127.0.0.1:${String(viewerReady!.uiPort)}/api/stats`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  });
});
