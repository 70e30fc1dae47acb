import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const { io } = require('socket.io-client');

export interface Saturated {
  requestsPerSecond: number;
  requests: number;
  errors: number;
}

/**
 * As many requests as the server takes for `seconds`, from `connections` keep-alive
 * connections (autocannon). By duration, not by count: autocannon notices a finished
 * count only on its one-second tick, which would round every figure to 12,000/N.
 */
export async function saturate(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  connections = 16,
): Promise<Saturated> {
  const result = await autocannon({ url, headers, connections, duration: seconds, pipelining: 1 });
  const requests = result.requests.total as number;
  return {
    requestsPerSecond: requests / (result.duration as number),
    requests,
    errors: (result.errors as number) + (result.non2xx as number),
  };
}

export interface Latencies {
  p50Us: number;
  p99Us: number;
  requests: number;
}

/** Requests at a steady rate well below saturation, timed one by one in microseconds. */
export async function atFixedRate(
  url: string,
  headers: Record<string, string>,
  ratePerSecond: number,
  seconds: number,
): Promise<Latencies> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const target = new URL(url);
  const times: number[] = [];
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const req = request(
        { host: target.hostname, port: target.port, path: target.pathname, headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            times.push((performance.now() - started) * 1000);
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  const pending: Array<Promise<void>> = [];
  const begin = performance.now();
  const total = Math.round(ratePerSecond * seconds);
  for (let i = 0; i < total; i++) {
    const due = begin + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(one());
  }
  await Promise.all(pending);
  agent.destroy();
  times.sort((a, b) => a - b);
  return {
    p50Us: times[Math.floor(times.length * 0.5)]!,
    p99Us: times[Math.floor(times.length * 0.99)]!,
    requests: times.length,
  };
}

export interface ChatLoad {
  messagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  messages: number;
  errors: number;
}

/** `clients` sockets, each sending a message and waiting for the whole streamed reply, in a loop. */
export async function chatRoundTrips(
  baseUrl: string,
  token: string,
  sessionIds: string[],
  seconds: number,
): Promise<ChatLoad> {
  const times: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    sessionIds.map(async (sessionId) => {
      const socket = io(baseUrl, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      while (performance.now() < deadline) {
        const started = performance.now();
        const done = new Promise<boolean>((resolve) => {
          socket.once('chat:assistant_message', () => resolve(true));
          socket.once('chat:error', () => resolve(false));
        });
        socket.emit('chat:user_message', { sessionId, content: 'How much would a 12 m2 kitchen cost?' });
        const ok = await done;
        socket.removeAllListeners('chat:assistant_message');
        socket.removeAllListeners('chat:error');
        if (ok) times.push(performance.now() - started);
        else errors += 1;
      }
      socket.close();
    }),
  );
  times.sort((a, b) => a - b);
  return {
    messagesPerSecond: times.length / seconds,
    p50Ms: times[Math.floor(times.length * 0.5)] ?? Number.NaN,
    p99Ms: times[Math.floor(times.length * 0.99)] ?? Number.NaN,
    messages: times.length,
    errors,
  };
}

/**
 * Exactly `total` requests from `connections` keep-alive connections, each sending its next
 * request when the last answer ends: a count, not a duration, for a measurement that counts
 * work rather than time (bench/instructions.mts). Answers other than 2xx are counted.
 */
export async function fixedCount(
  url: string,
  headers: Record<string, string>,
  total: number,
  connections = 8,
): Promise<{ requests: number; errors: number; seconds: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  let sent = 0;
  let errors = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(
        { host: target.hostname, port: target.port, path: target.pathname, headers, agent },
        (res) => {
          if (res.statusCode === undefined || res.statusCode >= 300) errors += 1;
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end();
    });
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (sent < total) {
        sent += 1;
        await one();
      }
    }),
  );
  agent.destroy();
  return { requests: total, errors, seconds: (performance.now() - begin) / 1000 };
}
