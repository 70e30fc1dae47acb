/**
 * Starting the real server for a bench (backend/dist/server.js, as `npm start` runs it after
 * the build) and signing in to it: shared by run, profile and instructions, so that every
 * figure of every bench comes from the same process under the same environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ConfigName } from './report.mts';

const require = createRequire(import.meta.url);
export const ROOT = path.resolve(import.meta.dirname, '..', '..');
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123';

/** The variables every bench server gets; a configuration adds its own OTEL_* on top. */
export function baseEnv(options: {
  port: number;
  databaseUrl: string;
  sink: string;
  gemini: string;
  serviceName: string;
}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(options.port),
    DATABASE_URL: options.databaseUrl,
    JWT_SECRET,
    GEMINI_API_KEY: 'bench-key',
    GEMINI_BASE_URL: options.gemini,
    GEMINI_MAX_RETRIES: '0',
    LOG_LEVEL: 'info',
    OTEL_EXPORTER_OTLP_ENDPOINT: options.sink,
    OTEL_SERVICE_NAME: options.serviceName,
    // spans reach the sink soon after each phase, so they can be counted per phase
    OTEL_BSP_SCHEDULE_DELAY: '500',
  };
}

/**
 * What sets each configuration apart (bench/run.mts, bench/instructions.mts):
 *   A  tracing off            B  ours, 100%          C  ours, 10%
 *   D  auto-instrumentations-node/register, defaults, 100%
 *   E  ours, 10%, metrics off (C − E is what metrics cost)
 * With `prometheusPort`, B and C serve their metrics there (the record path is OTLP's).
 */
export function configEnv(config: ConfigName, prometheusPort?: number): Record<string, string> {
  const ratio = (arg: string) => ({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: arg });
  const prometheus: Record<string, string> =
    prometheusPort === undefined
      ? {}
      : {
          OTEL_METRICS_EXPORTER: 'prometheus',
          OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
          OTEL_EXPORTER_PROMETHEUS_PORT: String(prometheusPort),
        };
  switch (config) {
    case 'A':
      return { OTEL_SDK_DISABLED: 'true' };
    case 'B':
      return { ...ratio('1'), ...prometheus };
    case 'C':
      return { ...ratio('0.1'), ...prometheus };
    case 'D':
      return { OTEL_TRACES_SAMPLER: 'parentbased_always_on' };
    case 'E':
      return { ...ratio('0.1'), OTEL_METRICS_EXPORTER: 'none' };
  }
}

/** Node's flags for a configuration: D preloads the stock auto-instrumentation. */
export function configNodeArgs(config: ConfigName): string[] {
  return config === 'D' ? ['--require', '@opentelemetry/auto-instrumentations-node/register'] : [];
}

export interface Server {
  child: ChildProcess;
  base: string;
  stop(): Promise<void>;
}

/**
 * Spawns `[...prefix, node, ...nodeArgs, backend/dist/server.js]` and waits until /health
 * answers. `prefix` runs the server under another program (valgrind); `startSeconds` is how
 * long start-up may take.
 */
export async function startServer(options: {
  label: string;
  env: Record<string, string>;
  nodeArgs?: string[];
  prefix?: string[];
  stdout?: 'ignore' | number;
  startSeconds?: number;
}): Promise<Server> {
  const command = [...(options.prefix ?? []), process.execPath, ...(options.nodeArgs ?? []), 'backend/dist/server.js'];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: options.env,
    stdio: ['ignore', options.stdout ?? 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const base = `http://127.0.0.1:${options.env.PORT}`;
  const deadline = Date.now() + (options.startSeconds ?? 60) * 1000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server ${options.label} exited during start-up`);
      const ok = await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return { child, base, stop };
      if (Date.now() > deadline) throw new Error(`server ${options.label} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Request headers with a bearer token for `subject`, signed with the bench servers' secret. */
export async function signIn(subject: string): Promise<{ token: string; headers: Record<string, string> }> {
  const { SignJWT } = require('jose');
  const token: string = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(JWT_SECRET));
  return { token, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } };
}

/** A new renovation session of the signed-in user; its id. */
export async function createSession(base: string, headers: Record<string, string>, title: string): Promise<string> {
  const response = await fetch(`${base}/api/sessions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ title, budgetCents: 2_000_000 }),
  });
  if (response.status !== 201) throw new Error(`POST /api/sessions answered ${response.status}`);
  return ((await response.json()) as { id: string }).id;
}

/** Runs `tsc -p tsconfig.build.json`, as `npm start` builds before it serves. */
export async function build(): Promise<void> {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if ((await new Promise((resolve) => child.once('exit', resolve))) !== 0) throw new Error('build failed');
}

/** The sink and the Gemini stand-in, in a process of their own (bench/lib/services.mts). */
export function startServices(): Promise<{ child: ChildProcess; sink: string; gemini: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'lib', 'services.mts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) =>
      resolve({ child, ...(JSON.parse(chunk.toString()) as { sink: string; gemini: string }) }),
    );
    child.once('exit', (code) => reject(new Error(`bench services exited (${code})`)));
  });
}

/**
 * A full garbage collection in the server, and the heap after it, the RSS and the peak RSS:
 * bench/heap-probe.cjs (preloaded with --expose-gc) answers SIGUSR2 with a line in `file`.
 * `seconds`: how long the answer may take (valgrind slows it fifty-fold).
 */
export async function probeHeap(
  child: ChildProcess,
  file: string,
  seconds = 5,
): Promise<{ heapUsed: number; rss: number; peakRss: number }> {
  const before = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  child.kill('SIGUSR2');
  for (let waited = 0; waited < seconds * 1000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    if (lines.length > before) return JSON.parse(lines.at(-1)!) as { heapUsed: number; rss: number; peakRss: number };
  }
  throw new Error('the heap probe did not answer');
}
