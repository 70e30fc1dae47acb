import { startServer, type ServerProcess } from './server-process';

/** The local trace viewer, started as `npm run traces` starts it, on free ports. */
export interface ViewerProcess {
  process: ServerProcess;
  uiUrl: string;
  otlpUrl: string;
  /** GET on the viewer's JSON API. */
  get(path: string): Promise<{ status: number; body: any }>;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export async function startViewer(env: Record<string, string | undefined> = {}): Promise<ViewerProcess> {
  const process = await startServer({
    command: { file: NPM, args: ['run', '--silent', 'traces'] },
    env: { TRACE_VIEWER_OTLP_PORT: '0', TRACE_VIEWER_UI_PORT: '0', NODE_ENV: 'development', ...env },
    ready: (line) => line.msg.startsWith('trace viewer ready'),
    // `pretraces` compiles the viewer first
    readyTimeoutMs: 90_000,
  });
  const ready = process.logs().find((line) => line.msg.startsWith('trace viewer ready'))!;
  const uiUrl = `http://127.0.0.1:${String(ready.uiPort)}`;
  return {
    process,
    uiUrl,
    otlpUrl: `http://127.0.0.1:${String(ready.otlpPort)}`,
    async get(path) {
      const response = await fetch(`${uiUrl}${path}`);
      return { status: response.status, body: await response.json() };
    },
    stop: () => process.stop('SIGTERM'),
  };
}

/** Polls the viewer until `path` answers 200 and `ready` accepts the body. */
export async function waitForApi(
  viewer: ViewerProcess,
  path: string,
  ready: (body: any) => boolean,
  timeoutMs = 30_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: number; body: any } | undefined;
  while (Date.now() < deadline) {
    last = await viewer.get(path);
    if (last.status === 200 && ready(last.body)) return last.body;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `viewer ${path} not ready within ${timeoutMs} ms; last answer ${JSON.stringify(last).slice(0, 2000)}`,
  );
}
