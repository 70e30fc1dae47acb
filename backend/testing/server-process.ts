import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { SignJWT } from 'jose';

export const ROOT = path.resolve(__dirname, '../..');
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

/** The command `npm start` runs (package.json "start"), without npm in between. */
export const START_ARGS = ['backend/dist/server.js'];

export type LogLine = Record<string, unknown> & { level: string; msg: string };

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Every JSON line the server wrote to stdout so far. */
  logs(): LogLine[];
  /** Raw stdout and stderr text so far. */
  output(): string;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal; resolves with the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  /** Variables on top of a minimal environment (PATH, HOME). */
  env?: Record<string, string | undefined>;
  /** Command and arguments; default `node backend/dist/server.js`. */
  command?: { file: string; args: string[] };
  readyTimeoutMs?: number;
  /** The log message that says the process is ready; default the server's "listening on …". */
  ready?: (line: LogLine) => boolean;
  /** Start it in a process group of its own, as a terminal or a supervisor does (signal the group with `process.kill(-pid)`). */
  detached?: boolean;
  /** Working directory; default the repository root. */
  cwd?: string;
}

/** The environment a test server gets unless a test overrides it. */
export function testEnv(databaseUrl: string, otlpUrl?: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'info',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    ...(otlpUrl ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl } : { OTEL_TRACES_EXPORTER: 'none' }),
  };
}

export async function startServer({
  env = {},
  command,
  readyTimeoutMs = 30_000,
  ready: isReady,
  detached = false,
  cwd = ROOT,
}: StartOptions = {}): Promise<ServerProcess> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  const fullEnv = { ...base, ...env };
  for (const key of Object.keys(fullEnv)) if (fullEnv[key] === undefined) delete fullEnv[key];
  const child = spawn(command?.file ?? process.execPath, command?.args ?? START_ARGS, {
    cwd,
    env: fullEnv as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  const lines: LogLine[] = [];
  let text = '';
  const waiters = new Set<() => void>();
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    text += `${line}\n`;
    try {
      const parsed = JSON.parse(line) as LogLine;
      if (parsed && typeof parsed === 'object') lines.push(parsed);
    } catch {
      // not a log line (npm's banner, say)
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.find(match);
        if (found) {
          cleanup();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching log line within ${timeoutMs} ms; output:\n${text.slice(-4000)}`));
      }, timeoutMs);
      const onExit = () => {
        cleanup();
        reject(new Error(`server exited before the expected log line; output:\n${text.slice(-4000)}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('exit', onExit);
      };
      waiters.add(check);
      child.once('exit', onExit);
      check();
    });

  const ready = await waitForLog(
    isReady ?? ((line) => line.msg?.startsWith('listening on') === true),
    readyTimeoutMs,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url: `http://127.0.0.1:${String(ready.port ?? 0)}`,
    child,
    logs: () => lines,
    output: () => text,
    waitForLog,
    exited: () => exit,
    async stop(signal = 'SIGTERM') {
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const result = await exit;
      return { ...result, ms: Date.now() - started };
    },
  };
}

export function tokenFor(userId: string, { secret = TEST_JWT_SECRET, expiresIn = '1h' } = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** A user id no other test uses. */
export function uniqueUser(prefix = 'user'): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function api(
  server: { url: string },
  method: string,
  route: string,
  { token, body, headers = {} }: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${server.url}${route}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // leave as text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** The plan worker, started as `npm run worker` starts it (node backend/dist/worker.js). */
export function startWorker(env: Record<string, string | undefined>): Promise<ServerProcess> {
  return startServer({
    env,
    command: { file: process.execPath, args: ['backend/dist/worker.js'] },
    ready: (line) => line.msg === 'plan worker ready',
  });
}
