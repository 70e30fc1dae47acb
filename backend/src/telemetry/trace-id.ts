/**
 * Starting a root span inside a trace id chosen by the caller: for clients that can
 * only send an `x-trace-id` header (a bare 32-hex id, no parent span: a support tool or
 * a log line gives them one id, not a traceparent). The SDK's id generator (see sdk/start.ts) takes the pinned id for the next trace it starts; startSpan is
 * synchronous, so the pin cannot leak into another span. The alternative, a made-up
 * remote parent, would leave every such trace with a parent span nobody ever sends.
 */
const VALID_TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;
let pinned: string | undefined;

export function isValidTraceId(value: unknown): value is string {
  return typeof value === 'string' && VALID_TRACE_ID.test(value);
}

export function withPinnedTraceId<T>(traceId: string, start: () => T): T {
  pinned = traceId;
  try {
    return start();
  } finally {
    pinned = undefined;
  }
}

/** For the id generator: the pinned trace id, once. */
export function takePinnedTraceId(): string | undefined {
  const traceId = pinned;
  pinned = undefined;
  return traceId;
}
