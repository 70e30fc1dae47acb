import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  SpanKind,
  SpanStatusCode,
  ValueType,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Histogram,
  type Span,
} from '@opentelemetry/api';
import { RPCType, setRPCMetadata, suppressTracing, type RPCMetadata } from '@opentelemetry/core';
import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { tracingFailed } from '../failure';
import { ChainedContext } from './chained-context';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_USER_AGENT_ORIGINAL,
  DURATION_BUCKETS,
  ERROR_TYPE_ABORTED,
  KNOWN_METHODS,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from './semconv';
import type { HttpServerInstrumentationConfig } from './types';

const NAME = 'renovation-agent-backend/http-server';
const VERSION = '0.1.0';

/** Where a request and its response keep the request's state (both point to the same object). */
const STATE = Symbol('opentelemetry.http-server.state');

interface RequestState {
  /** The context the request's events run in: propagated parent, its span, the RPC metadata. */
  readonly ctx: Context;
  /** Undefined for an ignored request (no span, no metric). */
  readonly span: Span | undefined;
  readonly rpc: RPCMetadata | undefined;
  readonly recording: boolean;
  readonly method: string;
  readonly scheme: 'http' | 'https';
  readonly started: number;
  done: boolean;
}

type Stateful = { [STATE]?: RequestState };
// biome-ignore lint/suspicious/noExplicitAny: an emitter method, called on whatever emitter it belongs to
type Emit = (this: any, event: string | symbol, ...args: unknown[]) => boolean;

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Incoming HTTP requests, traced for what they cost: the sampling decision comes first
 * (the propagated context, then the sampler through `tracer.startSpan` with the two
 * attributes a sampling rule may read, method and path). An unsampled request then only
 * carries its context and is counted in `http.server.request.duration`: no attributes
 * built, no URL parsed, no listener added, no emitter bound. A sampled one gets its
 * attributes when it ends, where they are all known at once.
 *
 * Hooks at the prototype level, once: `Server.prototype.emit` ('request' runs in the
 * request's context), and `IncomingMessage.prototype.emit` / `ServerResponse.prototype.emit`,
 * which run a request's own events (body chunks, 'end', 'finish', 'close') in its context
 * (they come from the socket, whose context is the connection's) and end its span on
 * 'close'. An emitter without the state slot pays one property read.
 *
 * `http.route` keeps the contract of upstream's instrumentation-http: whoever knows the
 * route sets `route` on the context's RPC metadata (`@opentelemetry/core` getRPCMetadata).
 */
export class HttpServerInstrumentation extends InstrumentationBase<HttpServerInstrumentationConfig> {
  // `declare`: the base constructor already calls setConfig and _updateMetricInstruments;
  // an initialised field would overwrite what they set
  declare private duration: Histogram | undefined;
  declare private redacted: Set<string>;

  constructor(config: HttpServerInstrumentationConfig = {}) {
    super(NAME, VERSION, config);
    this.redacted = new Set(config.redactedQueryParams ?? []);
  }

  override setConfig(config: HttpServerInstrumentationConfig = {}): void {
    super.setConfig(config);
    this.redacted = new Set(config.redactedQueryParams ?? []);
  }

  protected override _updateMetricInstruments(): void {
    this.duration = this.meter.createHistogram(METRIC_HTTP_SERVER_REQUEST_DURATION, {
      description: 'Duration of HTTP server requests.',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  }

  protected init() {
    return [
      new InstrumentationNodeModuleDefinition(
        'http',
        ['*'],
        (exports: typeof import('node:http')) => {
          this._wrap(exports.Server.prototype, 'emit', (original) => this.patchServerEmit(original as Emit, 'http'));
          this._wrap(exports.IncomingMessage.prototype, 'emit', (original) =>
            this.patchMessageEmit(original as Emit, false),
          );
          this._wrap(exports.ServerResponse.prototype, 'emit', (original) =>
            this.patchMessageEmit(original as Emit, true),
          );
          return exports;
        },
        (exports: typeof import('node:http')) => {
          this._unwrap(exports.Server.prototype, 'emit');
          this._unwrap(exports.IncomingMessage.prototype, 'emit');
          this._unwrap(exports.ServerResponse.prototype, 'emit');
        },
      ),
      new InstrumentationNodeModuleDefinition(
        'https',
        ['*'],
        (exports: typeof import('node:https')) => {
          this._wrap(exports.Server.prototype, 'emit', (original) => this.patchServerEmit(original as Emit, 'https'));
          return exports;
        },
        (exports: typeof import('node:https')) => this._unwrap(exports.Server.prototype, 'emit'),
      ),
    ];
  }

  // `arguments`, not rest parameters: these run for every event of every server and message,
  // and forwarding them must not allocate an array for events that are none of our business.
  private patchServerEmit(original: Emit, scheme: 'http' | 'https'): Emit {
    const instrumentation = this;
    return function emit(this: unknown, event: string | symbol, request?: unknown, response?: unknown): boolean {
      // biome-ignore lint/complexity/noArguments: see above
      if (event !== 'request') return original.apply(this, arguments as unknown as Parameters<Emit>);
      return instrumentation.onRequest(
        this as Server,
        original,
        scheme,
        request as IncomingMessage,
        response as ServerResponse,
      );
    };
  }

  /** A request's own events run in its context; a response's 'close' also ends the request. */
  private patchMessageEmit(original: Emit, isResponse: boolean): Emit {
    const instrumentation = this;
    return function emit(this: Stateful, event: string | symbol): boolean {
      const state = this[STATE];
      // biome-ignore lint/complexity/noArguments: see above
      if (state === undefined) return original.apply(this, arguments as unknown as Parameters<Emit>);
      // biome-ignore lint/complexity/noArguments: see above
      const args = arguments as unknown as Parameters<Emit>;
      if (!isResponse || event !== 'close' || state.done)
        return context.with(state.ctx, () => original.apply(this, args));
      try {
        return context.with(state.ctx, () => original.apply(this, args));
      } finally {
        instrumentation.finish(state, this as object as ServerResponse);
      }
    };
  }

  private onRequest(
    server: Server,
    original: Emit,
    scheme: 'http' | 'https',
    request: IncomingMessage,
    response: ServerResponse,
  ): boolean {
    let state: RequestState;
    try {
      if ((request as Stateful)[STATE] !== undefined) return original.call(server, 'request', request, response);
      state = this.start(request, scheme);
      (request as Stateful)[STATE] = state;
      (response as Stateful)[STATE] = state;
    } catch (failure) {
      tracingFailed('HttpServerInstrumentation.start', failure);
      return original.call(server, 'request', request, response);
    }
    return context.with(state.ctx, () => {
      if (state.recording) this.callRequestHook(state.span!, request);
      try {
        return original.call(server, 'request', request, response);
      } catch (error) {
        this.finish(state, response, error);
        throw error;
      }
    });
  }

  private start(request: IncomingMessage, scheme: 'http' | 'https'): RequestState {
    const started = performance.now();
    const rawMethod = request.method ?? 'GET';
    const method = KNOWN_METHODS.has(rawMethod) ? rawMethod : '_OTHER';
    if (this._config.ignoreIncomingRequestHook?.(request) === true) {
      const ctx = suppressTracing(context.active());
      return { ctx, span: undefined, rpc: undefined, recording: false, method, scheme, started, done: false };
    }
    // a chain rather than the API's Map-copying context: a request's context is built from
    // several values (request id, span, RPC metadata), each setValue a copy otherwise
    const parent = propagation.extract(ChainedContext.EMPTY, request.headers);
    const span = this.tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_PATH]: pathOf(request.url ?? '/') },
      },
      parent,
    );
    const rpc: RPCMetadata = { type: RPCType.HTTP, span };
    const ctx = setRPCMetadata(trace.setSpan(parent, span), rpc);
    const recording = span.isRecording();
    if (recording && rawMethod !== method) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, rawMethod);
    return { ctx, span, rpc, recording, method, scheme, started, done: false };
  }

  private callRequestHook(span: Span, request: IncomingMessage): void {
    try {
      this._config.requestHook?.(span, request);
    } catch (failure) {
      tracingFailed('HttpServerInstrumentation.requestHook', failure);
    }
  }

  /** Ends the span (if sampled) and counts the request, once, from what the response says. */
  private finish(state: RequestState, response: ServerResponse, error?: unknown): void {
    if (state.done) return;
    state.done = true;
    if (state.span === undefined) return;
    try {
      const seconds = (performance.now() - state.started) / 1000;
      const answered = response.headersSent;
      const status = answered ? response.statusCode : undefined;
      const errorType =
        error !== undefined
          ? errorName(error)
          : status !== undefined && status >= 500
            ? String(status)
            : response.writableFinished
              ? undefined
              : ERROR_TYPE_ABORTED;
      const attributes = metricAttributes(
        state.method,
        state.scheme,
        response.req?.httpVersion ?? '1.1',
        state.rpc?.route,
        status,
        errorType,
      );
      this.duration?.record(seconds, attributes);
      if (state.recording) this.endSpan(state.span, response, attributes, error);
      else state.span.end();
    } catch (failure) {
      tracingFailed('HttpServerInstrumentation.finish', failure);
    }
  }

  private endSpan(span: Span, response: ServerResponse, attributes: Attributes, error: unknown): void {
    const request = response.req;
    const route = attributes[ATTR_HTTP_ROUTE];
    if (route !== undefined) span.updateName(`${attributes[ATTR_HTTP_REQUEST_METHOD]} ${route}`);
    const url = request?.url ?? '/';
    const query = url.indexOf('?');
    const forwarded = request?.headers['x-forwarded-for'];
    const client = typeof forwarded === 'string' ? forwarded.split(',', 1)[0]!.trim() : request?.socket?.remoteAddress;
    const userAgent = request?.headers['user-agent'];
    span.setAttributes(attributes);
    if (query !== -1) span.setAttribute(ATTR_URL_QUERY, this.redactQuery(url.slice(query + 1)));
    if (client) span.setAttribute(ATTR_CLIENT_ADDRESS, client);
    if (userAgent !== undefined) span.setAttribute(ATTR_USER_AGENT_ORIGINAL, userAgent);
    if (error !== undefined) {
      span.recordException(error instanceof Error ? error : new Error(String(error)));
      span.setStatus({ code: SpanStatusCode.ERROR });
    } else if (attributes[ATTR_ERROR_TYPE] !== undefined) {
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }

  /** `a=1&token=x` → `a=1&token=REDACTED` for the configured names, as instrumentation-http writes it. */
  private redactQuery(query: string): string {
    if (this.redacted.size === 0) return query;
    return query
      .split('&')
      .map((pair) => {
        const equals = pair.indexOf('=');
        const name = equals === -1 ? pair : pair.slice(0, equals);
        return this.redacted.has(decodeName(name)) ? `${name}=REDACTED` : pair;
      })
      .join('&');
  }
}

// A request's metric attributes repeat from request to request (method, route, status): each
// set is built and frozen once, so sdk-metrics hashes it once (metrics/attribute-hash.ts).
// Found by route, then status, then among the few sets there (no key string to build and hash).
// Bounded: past the cap (a flood of odd routes or error codes) sets are built per request.
const MAX_ATTRIBUTE_SETS = 1024;
const attributeSets = new Map<string | undefined, Map<number | undefined, Attributes[]>>();
let attributeSetCount = 0;

function metricAttributes(
  method: string,
  scheme: string,
  version: string,
  route: string | undefined,
  status: number | undefined,
  errorType: string | undefined,
): Attributes {
  let byStatus = attributeSets.get(route);
  const candidates = byStatus?.get(status);
  if (candidates !== undefined)
    for (const known of candidates)
      if (
        known[ATTR_HTTP_REQUEST_METHOD] === method &&
        known['url.scheme'] === scheme &&
        known['network.protocol.version'] === version &&
        known[ATTR_ERROR_TYPE] === errorType
      )
        return known;
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    'url.scheme': scheme,
    'network.protocol.version': version,
  };
  if (route !== undefined) attributes[ATTR_HTTP_ROUTE] = route;
  if (status !== undefined) attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
  if (errorType !== undefined) attributes[ATTR_ERROR_TYPE] = errorType;
  Object.freeze(attributes);
  if (attributeSetCount < MAX_ATTRIBUTE_SETS) {
    attributeSetCount++;
    if (byStatus === undefined) {
      byStatus = new Map();
      attributeSets.set(route, byStatus);
    }
    if (candidates === undefined) byStatus.set(status, [attributes]);
    else candidates.push(attributes);
  }
  return attributes;
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    return name;
  }
}

/** A low-cardinality `error.type` for an error thrown out of the request listener. */
function errorName(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.length <= 64) return code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : 'Error';
}
