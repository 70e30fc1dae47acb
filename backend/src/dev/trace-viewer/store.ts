import type { ReceivedSpan } from '../otlp/decode';
import { toJsonObject, toStoredSpan, type JsonObject, type StoredSpan } from './stored-span';
import { summarize, type TraceSummary } from './summary';

export interface TraceStoreOptions {
  /** Traces kept; beyond, the least recently updated is evicted. */
  maxTraces: number;
  /** Spans kept per trace; later ones are counted as dropped. */
  maxSpansPerTrace: number;
}

export interface TraceQuery {
  service?: string;
  operation?: string;
  /** Only traces with an ERROR span. */
  error?: boolean;
  /** A trace id (also inside a pasted `traceparent`), or a part of an id or root span name. */
  search?: string;
  limit?: number;
}

export interface TraceList {
  traces: TraceSummary[];
  /** Traces matching the query, before `limit`. */
  matched: number;
  /** Every service and operation held, for the filters. */
  services: string[];
  operations: string[];
}

export interface StoreStats {
  traces: number;
  spans: number;
  maxTraces: number;
  evictedTraces: number;
  droppedSpans: number;
}

/** What persistence saves: the spans of every trace, oldest trace first. */
export interface SavedTraces {
  version: 1;
  traces: Array<{ traceId: string; droppedSpans: number; spans: StoredSpan[] }>;
}

export interface TraceStore {
  add(spans: readonly ReceivedSpan[]): void;
  list(query?: TraceQuery): TraceList;
  get(traceId: string): { summary: TraceSummary; spans: StoredSpan[] } | undefined;
  stats(): StoreStats;
  save(): SavedTraces;
  restore(saved: SavedTraces): void;
  /** Called after every change (for persistence). */
  onChange(listener: () => void): void;
}

interface Entry {
  spans: Map<string, StoredSpan>;
  resources: Map<string, JsonObject>;
  droppedSpans: number;
  summary?: TraceSummary;
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id in what a user pasted: a bare id (any case) or a `traceparent`. */
export function traceIdIn(search: string): string | undefined {
  const text = search.trim().toLowerCase();
  if (TRACE_ID.test(text)) return text;
  return TRACEPARENT.exec(text)?.[1];
}

export function createTraceStore({ maxTraces, maxSpansPerTrace }: TraceStoreOptions): TraceStore {
  // Map order is the eviction order: a trace is moved to the end whenever it changes.
  const traces = new Map<string, Entry>();
  const listeners: Array<() => void> = [];
  let spanCount = 0;
  let evictedTraces = 0;
  let droppedSpans = 0;

  const entryFor = (traceId: string): Entry => {
    const entry: Entry = traces.get(traceId) ?? { spans: new Map(), resources: new Map(), droppedSpans: 0 };
    traces.delete(traceId);
    traces.set(traceId, entry);
    entry.summary = undefined;
    return entry;
  };

  const put = (entry: Entry, span: StoredSpan): void => {
    // an exporter retrying after a timeout may send a span twice
    if (!entry.spans.has(span.spanId)) {
      if (entry.spans.size >= maxSpansPerTrace) {
        entry.droppedSpans++;
        droppedSpans++;
        return;
      }
      spanCount++;
    }
    entry.spans.set(span.spanId, span);
  };

  const evict = (): void => {
    for (const [traceId, entry] of traces) {
      if (traces.size <= maxTraces) break;
      traces.delete(traceId);
      spanCount -= entry.spans.size;
      evictedTraces++;
    }
  };

  const changed = (): void => {
    for (const listener of listeners) listener();
  };

  const summaryOf = (traceId: string, entry: Entry): TraceSummary => {
    entry.summary ??= summarize(traceId, [...entry.spans.values()], entry.droppedSpans);
    return entry.summary;
  };

  return {
    add(spans) {
      if (spans.length === 0) return;
      // spans of one export share their resource object; the stored copies share one per trace
      const converted = new Map<object, JsonObject>();
      for (const span of spans) {
        const entry = entryFor(span.traceId);
        let resource = converted.get(span.resource);
        if (resource === undefined) {
          resource = toJsonObject(span.resource);
          converted.set(span.resource, resource);
        }
        const key = JSON.stringify(resource);
        const shared = entry.resources.get(key) ?? resource;
        entry.resources.set(key, shared);
        put(entry, toStoredSpan(span, shared));
      }
      evict();
      changed();
    },

    list({ service, operation, error, search, limit = 100 } = {}) {
      const all = [...traces].map(([traceId, entry]) => summaryOf(traceId, entry));
      const id = search === undefined ? undefined : traceIdIn(search);
      const needle = search?.trim().toLowerCase();
      const matching = all.filter(
        (trace) =>
          (service === undefined || trace.services.includes(service)) &&
          (operation === undefined || trace.operation === operation) &&
          (error !== true || trace.errorCount > 0) &&
          (id !== undefined
            ? trace.traceId === id
            : needle === undefined ||
              needle === '' ||
              trace.traceId.includes(needle) ||
              trace.rootName.toLowerCase().includes(needle)),
      );
      matching.sort((a, b) =>
        BigInt(b.startTimeUnixNano) > BigInt(a.startTimeUnixNano)
          ? 1
          : BigInt(b.startTimeUnixNano) < BigInt(a.startTimeUnixNano)
            ? -1
            : 0,
      );
      return {
        traces: matching.slice(0, Math.max(0, limit)),
        matched: matching.length,
        services: [...new Set(all.flatMap((trace) => trace.services))].sort(),
        operations: [...new Set(all.map((trace) => trace.operation))].sort(),
      };
    },

    get(traceId) {
      const id = traceIdIn(traceId);
      const entry = id === undefined ? undefined : traces.get(id);
      if (id === undefined || entry === undefined) return undefined;
      const spans = [...entry.spans.values()].sort((a, b) =>
        BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1,
      );
      return { summary: summaryOf(id, entry), spans };
    },

    stats: () => ({ traces: traces.size, spans: spanCount, maxTraces, evictedTraces, droppedSpans }),

    save: () => ({
      version: 1,
      traces: [...traces].map(([traceId, entry]) => ({
        traceId,
        droppedSpans: entry.droppedSpans,
        spans: [...entry.spans.values()],
      })),
    }),

    restore(saved) {
      for (const trace of saved.traces) {
        const entry = entryFor(trace.traceId);
        entry.droppedSpans += trace.droppedSpans;
        for (const span of trace.spans) {
          const key = JSON.stringify(span.resource);
          const shared = entry.resources.get(key) ?? span.resource;
          entry.resources.set(key, shared);
          put(entry, { ...span, resource: shared });
        }
      }
      evict();
    },

    onChange(listener) {
      listeners.push(listener);
    },
  };
}
