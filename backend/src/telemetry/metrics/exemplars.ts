import type { Attributes } from '@opentelemetry/api';

/**
 * Exemplars for explicit-bucket histograms, which sdk-metrics does not keep: the metrics SDK
 * specification's AlignedHistogramBucketExemplarReservoir (the last measurement falling in each
 * bucket, per data point). Recording only appends to a bounded ring; bucket index and attribute
 * key are worked out when a reader collects, off the request path.
 */

/** `OTEL_METRICS_EXEMPLAR_FILTER`: which measurements may become exemplars. */
export type ExemplarFilter = 'trace_based' | 'always_on' | 'always_off';

export interface Exemplar {
  value: number;
  /** Epoch milliseconds. */
  timeMs: number;
  /** Hex, absent when the measurement had no span. */
  traceId?: string | undefined;
  spanId?: string | undefined;
  /** Recorded as an integer (an INT histogram): `as_int` on the wire. */
  isInt: boolean;
}

/** The histogram an exemplar belongs to, as its data points name it. */
export interface InstrumentKey {
  scope: string;
  scopeVersion: string;
  name: string;
}

/** The SDK's default explicit buckets, for a histogram created without advice. */
export const DEFAULT_BOUNDARIES: readonly number[] = [
  0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000,
];

interface Stored extends Exemplar {
  seq: number;
}

/** One histogram's exemplars: a bucket array per attribute set, up to the series limit. */
export class HistogramExemplars {
  readonly series = new Map<string, Array<Stored | undefined>>();
  constructor(
    readonly key: InstrumentKey,
    readonly boundaries: readonly number[],
    readonly isInt: boolean,
  ) {}
}

interface Pending {
  histogram: HistogramExemplars;
  value: number;
  timeMs: number;
  attributes: Attributes | undefined;
  traceId: string | undefined;
  spanId: string | undefined;
}

/** The exemplars of one collection, looked up by the data point they belong to. */
export type ExemplarLookup = (key: InstrumentKey, attributes: Attributes) => Exemplar[];

export interface ExemplarStoreOptions {
  /** Sampled measurements kept between two collections; the oldest are overwritten (default 4096). */
  pendingLimit?: number;
  /** Attribute sets per histogram with exemplars (default 2000, the SDK's cardinality limit). */
  seriesLimit?: number;
}

/** Attribute-order-independent key; the SDK keeps one data point per distinct set. */
export function attributesKey(attributes: Attributes | undefined): string {
  if (attributes === undefined) return '[]';
  const keys = Object.keys(attributes).sort();
  return JSON.stringify(keys.map((key) => [key, attributes[key]]));
}

/** Index of the bucket holding `value`: bucket i is (bounds[i-1], bounds[i]], as the SDK counts. */
export function bucketIndex(boundaries: readonly number[], value: number): number {
  let low = 0;
  let high = boundaries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (value <= boundaries[middle]!) high = middle;
    else low = middle + 1;
  }
  return low;
}

const instrumentId = (key: InstrumentKey) => `${key.scope}\u0000${key.scopeVersion}\u0000${key.name}`;

export class ExemplarStore {
  private readonly instruments = new Map<string, HistogramExemplars>();
  private readonly ring: Array<Pending | undefined>;
  private next = 0;
  private size = 0;
  private seq = 0;
  private readonly seriesLimit: number;

  constructor({ pendingLimit = 4096, seriesLimit = 2000 }: ExemplarStoreOptions = {}) {
    this.ring = new Array<Pending | undefined>(Math.max(1, pendingLimit));
    this.seriesLimit = seriesLimit;
  }

  /** The exemplars of one histogram (shared by every instrument of that name in that scope). */
  histogram(key: InstrumentKey, boundaries: readonly number[] | undefined, isInt: boolean): HistogramExemplars {
    const id = instrumentId(key);
    let found = this.instruments.get(id);
    if (found === undefined) {
      found = new HistogramExemplars(key, [...(boundaries ?? DEFAULT_BOUNDARIES)], isInt);
      this.instruments.set(id, found);
    }
    return found;
  }

  /** The record path: one small object into the ring, nothing else. */
  offer(
    histogram: HistogramExemplars,
    value: number,
    attributes: Attributes | undefined,
    traceId: string | undefined,
    spanId: string | undefined,
  ): void {
    this.ring[this.next] = { histogram, value, timeMs: Date.now(), attributes, traceId, spanId };
    this.next = (this.next + 1) % this.ring.length;
    if (this.size < this.ring.length) this.size++;
  }

  /** Moves the pending measurements into their buckets, oldest first, so the last one wins. */
  private drain(): void {
    const capacity = this.ring.length;
    for (let index = 0; index < this.size; index++) {
      const slot = (this.next - this.size + index + capacity) % capacity;
      const pending = this.ring[slot]!;
      this.ring[slot] = undefined;
      const { histogram } = pending;
      const key = attributesKey(pending.attributes);
      let buckets = histogram.series.get(key);
      if (buckets === undefined) {
        if (histogram.series.size >= this.seriesLimit) continue;
        buckets = new Array<Stored | undefined>(histogram.boundaries.length + 1);
        histogram.series.set(key, buckets);
      }
      const value = histogram.isInt ? Math.trunc(pending.value) : pending.value;
      buckets[bucketIndex(histogram.boundaries, value)] = {
        value,
        timeMs: pending.timeMs,
        traceId: pending.traceId,
        spanId: pending.spanId,
        isInt: histogram.isInt,
        seq: ++this.seq,
      };
    }
    this.size = 0;
  }

  /**
   * A reader of the exemplars. `fresh`: each collection gets only the exemplars recorded since its
   * previous one (OTLP pushes); otherwise the latest per bucket, however old (a Prometheus scrape,
   * as client libraries expose them).
   */
  reader({ fresh }: { fresh: boolean }): () => ExemplarLookup {
    let seen = 0;
    return () => {
      this.drain();
      const since = fresh ? seen : 0;
      seen = this.seq;
      return (key, attributes) => {
        const buckets = this.instruments.get(instrumentId(key))?.series.get(attributesKey(attributes));
        if (buckets === undefined) return [];
        const found: Exemplar[] = [];
        for (const stored of buckets)
          if (stored !== undefined && stored.seq > since) {
            const { seq: _seq, ...exemplar } = stored;
            found.push(exemplar);
          }
        return found;
      };
    };
  }
}
