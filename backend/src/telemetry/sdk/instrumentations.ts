import type { IncomingMessage } from 'node:http';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { TraceFlags, context, trace, type Attributes, type HrTime } from '@opentelemetry/api';
import { hrTime, hrTimeDuration, hrTimeToMilliseconds } from '@opentelemetry/core';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_REQUEST_ID,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '../attributes';
import { recordDbOperation } from '../metrics/instruments';
import { summarizeSql } from '../sql-summary';
import { getRequestId } from '../request-id';
import { HttpServerInstrumentation } from '../http-server';
import { cheapPoolCounters } from './pg-pool-metrics';
import type { InstrumentationName } from '../types';

const untracedServers = new WeakSet<object>();

/** Requests to this server get no span: for the in-process Gemini stand-in. */
export function excludeServerFromTracing(server: object): void {
  untracedServers.add(server);
}

export interface InstrumentationOptions {
  /** Incoming paths served without a span (probes); a path ending in `/` is a prefix. */
  untracedPaths: readonly string[];
  /** Record SQL parameter values on pg spans. Off by default: values can hold personal data. */
  captureSqlParameters: boolean;
  /** Which of them to load (OTEL_NODE_ENABLED/DISABLED_INSTRUMENTATIONS); default all. */
  instrumentations?: readonly InstrumentationName[];
}

/**
 * Query parameters whose values never reach a span (`url.query`, `url.full`), on top of
 * the instrumentation's default list (signatures and cloud credentials). Exact names
 * (the instrumentation compares them as such); the redacting processor also catches
 * any parameter whose name merely contains token, key, secret, password or auth.
 */
export const REDACTED_QUERY_PARAMS = [
  'sig',
  'Signature',
  'AWSAccessKeyId',
  'X-Goog-Signature',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
  ...[
    'token',
    'access_token',
    'id_token',
    'refresh_token',
    'auth',
    'authorization',
    'jwt',
    'code',
    'password',
    'secret',
    'client_secret',
    'key',
    'api_key',
    'apikey',
    'apiKey',
    'x-api-key',
    'session',
    'sessionid',
  ],
];

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Exactly the instrumentations this service needs, configured against noise and cost:
 * no fs, dns or net spans (not loaded at all); no pool-connect spans and no span
 * without a parent for pg, fetch and ioredis, so a background query never becomes an orphan
 * root; outgoing `http` module calls are not traced (the only ones are the exporter's
 * own; outgoing HTTP from the app goes through fetch, traced by undici). Incoming requests
 * go through our own server instrumentation (http-server/), which decides sampling before
 * any other work; upstream's instrumentation-http is not loaded at all.
 *
 * The Express instrumentation is not used: the benchmark (bench/) showed it costing
 * tens of µs per request, patching every layer to produce one request-handler span
 * that repeats the server span. The one thing we need from it, `http.route`, comes
 * from the route middleware `recordRoute` (middleware/route.middleware.ts).
 */
type QueryPatch = (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown;

type QueryArgs = unknown[];

/** `db.operation.name` as instrumentation-pg writes it on the metric: the text's first word, upper-cased, without `;`. */
function operationOf(firstWord: string): string {
  const command = firstWord.toUpperCase();
  return command.endsWith(';') ? command.slice(0, -1) : command;
}

/** The text up to its first space (after trimming), as instrumentation-pg splits it. */
function firstWordOf(text: string): string {
  const trimmed = text.trim();
  const space = trimmed.indexOf(' ');
  return space === -1 ? trimmed : trimmed.slice(0, space);
}

/** The attributes instrumentation-pg gives `db.client.operation.duration`, for a query it does not see. */
function queryMetricAttributes(client: unknown, firstWord: string | undefined): Attributes {
  const { database, connectionParameters } = (client ?? {}) as {
    database?: unknown;
    connectionParameters?: { host?: unknown; port?: unknown };
  };
  const attributes: Attributes = { [ATTR_DB_SYSTEM_NAME]: 'postgresql' };
  if (typeof database === 'string') attributes[ATTR_DB_NAMESPACE] = database;
  if (typeof connectionParameters?.host === 'string') attributes[ATTR_SERVER_ADDRESS] = connectionParameters.host;
  if (Number.isInteger(connectionParameters?.port)) attributes[ATTR_SERVER_PORT] = connectionParameters?.port as number;
  if (firstWord !== undefined) attributes[ATTR_DB_OPERATION_NAME] = operationOf(firstWord);
  return Object.freeze(attributes);
}

// The metric attributes of a query depend only on its client and its text's first word: built
// once per client and word, keyed by the word rather than the text (drizzle builds each text
// anew, and a Map lookup by a new string of a few hundred characters hashes all of it). Frozen
// and reused, so sdk-metrics hashes each set once (metrics/attribute-hash.ts). Bounded: a client
// sending ever new first words (text without spaces) stops caching at the cap.
const MAX_CACHED_WORDS = 512;
const attributeCache = new WeakMap<object, Map<string, Attributes>>();

function cachedQueryMetricAttributes(client: unknown, text: unknown): Attributes {
  const firstWord = typeof text === 'string' ? firstWordOf(text) : undefined;
  if (firstWord === undefined || client === null || typeof client !== 'object')
    return queryMetricAttributes(client, firstWord);
  let words = attributeCache.get(client);
  if (words === undefined) {
    words = new Map();
    attributeCache.set(client, words);
  }
  let attributes = words.get(firstWord);
  if (attributes === undefined) {
    attributes = queryMetricAttributes(client, firstWord);
    if (words.size < MAX_CACHED_WORDS) words.set(firstWord, attributes);
  }
  return attributes;
}

/** Calls the driver and records how long the query took, by callback or by promise, whichever it uses. */
/** One query's duration into the metric, `error.type` the PostgreSQL code when it failed. */
function recordQuery(started: number, attributes: Attributes, error?: unknown): void {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  recordDbOperation(
    (performance.now() - started) / 1000,
    typeof code === 'string' ? { ...attributes, [ATTR_ERROR_TYPE]: code } : attributes,
  );
}

function timedQuery(client: unknown, args: QueryArgs, original: (...args: unknown[]) => unknown): unknown {
  const started = performance.now();
  const first = args[0];
  const attributes = cachedQueryMetricAttributes(
    client,
    typeof first === 'string' ? first : (first as { text?: unknown } | undefined)?.text,
  );
  const last = args.at(-1);
  if (typeof last === 'function') {
    // one closure per query, and the driver's arguments forwarded as they came (no array)
    args[args.length - 1] = function timed(this: unknown, error: unknown) {
      recordQuery(started, attributes, error);
      // biome-ignore lint/complexity/noArguments: see above
      return (last as (...results: unknown[]) => unknown).apply(this, arguments as unknown as unknown[]);
    };
    return original.apply(client, args);
  }
  const result = original.apply(client, args);
  if (result instanceof Promise)
    result.then(
      () => recordQuery(started, attributes),
      (error: unknown) => recordQuery(started, attributes, error),
    );
  return result;
}

/**
 * A query below an unsampled trace would build a span, its attributes and its context
 * bindings, only for all of it to be dropped: 90% of production traffic at the default
 * ratio. This wraps the pg instrumentation's patch so that such queries go straight to
 * the driver (the benchmark measured tens of µs per request). Relies on the
 * instrumentation's private `_getClientQueryPatch` (instrumentation-pg 0.77): no public
 * option skips work under a non-recording parent (`requireParentSpan` only checks that a
 * span exists). If an upgrade renames it nothing breaks, the shortcut is just not taken,
 * and `instrumentations.test.ts` fails to say so.
 */
function skipUnsampledQueries(instrumentation: PgInstrumentation): PgInstrumentation {
  const internals = instrumentation as unknown as { _getClientQueryPatch?: () => QueryPatch };
  const base = internals._getClientQueryPatch?.bind(instrumentation);
  if (base === undefined) return instrumentation;
  internals._getClientQueryPatch = () => (original) => {
    const patched = base()(original);
    return function query(this: unknown, ...args: unknown[]) {
      // the sampled flag, not isRecording(): a request whose span already ended (its client
      // went away) still owns the queries it goes on to make
      const parent = trace.getSpan(context.active());
      if (((parent?.spanContext().traceFlags ?? 0) & TraceFlags.SAMPLED) !== 0) return patched.apply(this, args);
      // unsampled: no span, but the duration metric still counts the query (inside a trace, as the instrumentation would)
      return parent === undefined ? original.apply(this, args) : timedQuery(this, args, original);
    };
  };
  return instrumentation;
}

// the keys instrumentation-pg copies from a query's span attributes onto its duration metric
const OPERATION_METRIC_KEYS = [
  ATTR_DB_NAMESPACE,
  ATTR_ERROR_TYPE,
  ATTR_SERVER_PORT,
  ATTR_SERVER_ADDRESS,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
];
const MAX_CACHED_OPERATION_SERIES = 1024;

/**
 * A sampled query's `db.client.operation.duration`, for less: instrumentation-pg copies six
 * span attributes into a new object per query, which sdk-metrics then sorts and JSON-encodes
 * to find the series (about 15k instructions per request of two queries,
 * `npm run bench:instructions -- --functions 40`). This records the same attributes (the
 * same keys, present when the span has them) through a frozen object kept per combination
 * of values, whose hash is computed once (metrics/attribute-hash.ts), and the same duration.
 * Bounded: past the cap, new combinations get a fresh object as before.
 *
 * Replaces the instrumentation's private `recordOperationDuration` (instrumentation-pg 0.77,
 * called with the span's attributes and start time); renamed by an upgrade, this does
 * nothing and `instrumentations.test.ts` says so.
 */
function cheapOperationDurations(instrumentation: PgInstrumentation): PgInstrumentation {
  type RecordDuration = (this: unknown, attributes: Attributes, startTime: HrTime) => void;
  const internals = instrumentation as unknown as {
    recordOperationDuration?: RecordDuration;
    _operationDuration?: { record(value: number, attributes: Attributes): void };
  };
  const original = internals.recordOperationDuration;
  if (typeof original !== 'function') return instrumentation;
  const series = new Map<string, Attributes>();
  internals.recordOperationDuration = function recordOperationDuration(attributes, startTime) {
    const histogram = internals._operationDuration;
    if (histogram === undefined) return original.call(this, attributes, startTime);
    let key = '';
    for (const name of OPERATION_METRIC_KEYS) {
      const value = attributes[name];
      // a value that is not a primitive (never seen from pg) is the instrumentation's business, as before
      if (value !== undefined && typeof value === 'object') return original.call(this, attributes, startTime);
      key += name in attributes ? `${typeof value}:${String(value)}\u0000` : '\u0001';
    }
    let metricAttributes = series.get(key);
    if (metricAttributes === undefined) {
      const copy: Attributes = {};
      for (const name of OPERATION_METRIC_KEYS) if (name in attributes) copy[name] = attributes[name];
      metricAttributes = Object.freeze(copy);
      if (series.size < MAX_CACHED_OPERATION_SERIES) series.set(key, metricAttributes);
    }
    histogram.record(hrTimeToMilliseconds(hrTimeDuration(startTime, hrTime())) / 1e3, metricAttributes);
  };
  return instrumentation;
}

/** Whether the active context's span is sampled (its flag, not isRecording(): see skipUnsampledQueries). */
function underSampledSpan(): boolean {
  return ((trace.getSpan(context.active())?.spanContext().traceFlags ?? 0) & TraceFlags.SAMPLED) !== 0;
}

type CommandPatch = (original: (...args: unknown[]) => unknown, ...rest: unknown[]) => (...args: unknown[]) => unknown;

/**
 * The same shortcut for Redis: under an unsampled trace the instrumentation would still
 * build attributes, serialise the command, start a non-recording span and wrap the
 * command's resolve and reject; it records no metric, so the command goes straight to the
 * driver. Relies on the private `_traceSendCommand` / `_traceConnection` of
 * instrumentation-ioredis (0.6x); renamed, the shortcut is not taken and
 * `instrumentations.test.ts` says so.
 */
function skipUnsampledCommands(instrumentation: IORedisInstrumentation): IORedisInstrumentation {
  const internals = instrumentation as unknown as Record<string, CommandPatch | undefined>;
  for (const name of ['_traceSendCommand', '_traceConnection']) {
    const base = internals[name]?.bind(instrumentation);
    if (base === undefined) continue;
    internals[name] = (original, ...rest) => {
      const patched = base(original, ...rest);
      return function command(this: unknown, ...args: unknown[]) {
        return underSampledSpan() ? patched.apply(this, args) : original.apply(this, args);
      };
    };
  }
  return instrumentation;
}

export function createInstrumentations(options: InstrumentationOptions): Instrumentation[] {
  const wanted = new Set(options.instrumentations ?? ['http', 'pg', 'ioredis', 'undici']);
  const all = createAllInstrumentations(options);
  return (Object.keys(all) as InstrumentationName[]).filter((name) => wanted.has(name)).map((name) => all[name]());
}

function createAllInstrumentations({
  untracedPaths,
  captureSqlParameters,
}: InstrumentationOptions): Record<InstrumentationName, () => Instrumentation> {
  const exact = new Set(untracedPaths.filter((path) => !path.endsWith('/')));
  const prefixes = untracedPaths.filter((path) => path.endsWith('/'));
  const isUntraced = (request: IncomingMessage) => {
    const path = pathOf(request);
    return (
      exact.has(path) ||
      prefixes.some((prefix) => path.startsWith(prefix)) ||
      untracedServers.has((request.socket as { server?: object }).server ?? {})
    );
  };
  return {
    // incoming requests only (http-server/): outgoing `http` module calls are the exporter's own
    http: () =>
      new HttpServerInstrumentation({
        ignoreIncomingRequestHook: isUntraced,
        redactedQueryParams: REDACTED_QUERY_PARAMS,
        requestHook: (span) => {
          const requestId = getRequestId(context.active());
          if (requestId !== undefined) span.setAttribute(ATTR_REQUEST_ID, requestId);
        },
      }),
    pg: () => {
      cheapPoolCounters();
      return skipUnsampledQueries(
        cheapOperationDurations(
          new PgInstrumentation({
            requireParentSpan: true,
            ignoreConnectSpans: true,
            enhancedDatabaseReporting: captureSqlParameters,
            // `SELECT renovation_sessions` rather than `pg.query:SELECT <database>`, as the
            // database conventions name spans, with the operation and table as attributes.
            requestHook: (span, { query }) => {
              const summary = summarizeSql(query.text);
              if (summary === undefined) return;
              span.updateName(summary.name);
              span.setAttribute(ATTR_DB_OPERATION_NAME, summary.operation);
              if (summary.collection !== undefined) span.setAttribute(ATTR_DB_COLLECTION_NAME, summary.collection);
            },
          }),
        ),
      );
    },
    // no unsampled shortcut here: under an unsampled trace undici's work is what carries the
    // trace (an unsampled traceparent downstream) and counts http.client.request.duration
    undici: () => new UndiciInstrumentation({ requireParentforSpans: true }),
    // Redis commands only inside traced work (a job, a delivery), never BullMQ's polling;
    // the command name only: arguments carry job payloads and user data.
    ioredis: () =>
      skipUnsampledCommands(
        new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
      ),
    // metrics only: event-loop delay and utilisation, heap by space, GC
    'runtime-node': () => new RuntimeNodeInstrumentation(),
  };
}
