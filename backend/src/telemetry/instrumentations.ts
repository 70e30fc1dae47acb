import type { IncomingMessage } from 'node:http';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { ATTR_DB_COLLECTION_NAME, ATTR_DB_OPERATION_NAME, ATTR_REQUEST_ID } from './attributes';
import { summarizeSql } from './sql-summary';
import { getRequestId } from './request-id';
import { context } from '@opentelemetry/api';

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
  ...['token', 'access_token', 'id_token', 'refresh_token', 'auth', 'authorization', 'jwt', 'code', 'password', 'secret', 'client_secret', 'key', 'api_key', 'apikey', 'apiKey', 'x-api-key', 'session', 'sessionid'],
];

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Exactly the instrumentations this service needs, configured against noise: no fs,
 * dns or net spans (not loaded at all), no Express middleware or router layer spans
 * (on Express 5 the separate `router` instrumentation would duplicate them; only the
 * route handler gets a span), no pool-connect spans and no span without a parent
 * for pg and outgoing calls, so a background query never becomes an orphan root.
 */
export function createInstrumentations({ untracedPaths, captureSqlParameters }: InstrumentationOptions): Instrumentation[] {
  const exact = new Set(untracedPaths.filter((path) => !path.endsWith('/')));
  const prefixes = untracedPaths.filter((path) => path.endsWith('/'));
  const isUntraced = (request: IncomingMessage) => {
    const path = pathOf(request);
    return exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix)) || untracedServers.has((request.socket as { server?: object }).server ?? {});
  };
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: isUntraced,
      requireParentforOutgoingSpans: true,
      redactedQueryParamsServer: REDACTED_QUERY_PARAMS,
      redactedQueryParams: REDACTED_QUERY_PARAMS,
      requestHook: (span) => {
        const requestId = getRequestId(context.active());
        if (requestId !== undefined) span.setAttribute(ATTR_REQUEST_ID, requestId);
      },
    }),
    new ExpressInstrumentation({
      ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER],
      spanNameHook: ({ layerType, route }, defaultName) => (layerType === 'request_handler' && route ? `request handler ${route}` : defaultName),
    }),
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
    new UndiciInstrumentation({ requireParentforSpans: true }),
  ];
}
