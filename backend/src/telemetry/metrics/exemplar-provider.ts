import {
  context as contextApi,
  trace,
  TraceFlags,
  ValueType,
  type Attributes,
  type Context,
  type Histogram,
  type Meter,
  type MeterOptions,
  type MeterProvider,
  type MetricOptions,
} from '@opentelemetry/api';
import { tracingFailed } from '../failure';
import type { ExemplarFilter, ExemplarStore, HistogramExemplars } from './exemplars';

/**
 * A histogram that records through the SDK's, then offers the measurement as an exemplar when
 * the filter lets it. `trace_based`: only inside a sampled span; the unsampled path is one
 * context lookup and a flag test.
 */
class ExemplarHistogram implements Histogram {
  constructor(
    private readonly inner: Histogram,
    private readonly store: ExemplarStore,
    private readonly exemplars: HistogramExemplars,
    private readonly always: boolean,
  ) {}

  record(value: number, attributes?: Attributes, context?: Context): void {
    const ctx = context ?? contextApi.active();
    this.inner.record(value, attributes, ctx);
    // the SDK drops these too
    if (!(value >= 0)) return;
    const span = trace.getSpan(ctx);
    if (span === undefined) {
      if (this.always) this.offer(value, attributes, undefined, undefined);
      return;
    }
    const spanContext = span.spanContext();
    if ((spanContext.traceFlags & TraceFlags.SAMPLED) !== 0)
      this.offer(value, attributes, spanContext.traceId, spanContext.spanId);
    else if (this.always) this.offer(value, attributes, undefined, undefined);
  }

  private offer(value: number, attributes: Attributes | undefined, traceId?: string, spanId?: string): void {
    try {
      this.store.offer(this.exemplars, value, attributes, traceId, spanId);
    } catch (failure) {
      tracingFailed('ExemplarHistogram.record', failure);
    }
  }
}

class ExemplarMeter implements Meter {
  constructor(
    private readonly inner: Meter,
    private readonly scope: string,
    private readonly scopeVersion: string,
    private readonly store: ExemplarStore,
    private readonly filter: ExemplarFilter,
  ) {}

  createHistogram(name: string, options?: MetricOptions): Histogram {
    const histogram = this.inner.createHistogram(name, options);
    const exemplars = this.store.histogram(
      { scope: this.scope, scopeVersion: this.scopeVersion, name },
      options?.advice?.explicitBucketBoundaries,
      options?.valueType === ValueType.INT,
    );
    return new ExemplarHistogram(histogram, this.store, exemplars, this.filter === 'always_on');
  }

  createGauge: Meter['createGauge'] = (...args) => this.inner.createGauge(...args);
  createCounter: Meter['createCounter'] = (...args) => this.inner.createCounter(...args);
  createUpDownCounter: Meter['createUpDownCounter'] = (...args) => this.inner.createUpDownCounter(...args);
  createObservableGauge: Meter['createObservableGauge'] = (...args) => this.inner.createObservableGauge(...args);
  createObservableCounter: Meter['createObservableCounter'] = (...args) => this.inner.createObservableCounter(...args);
  createObservableUpDownCounter: Meter['createObservableUpDownCounter'] = (...args) =>
    this.inner.createObservableUpDownCounter(...args);
  addBatchObservableCallback: Meter['addBatchObservableCallback'] = (...args) =>
    this.inner.addBatchObservableCallback(...args);
  removeBatchObservableCallback: Meter['removeBatchObservableCallback'] = (...args) =>
    this.inner.removeBatchObservableCallback(...args);
}

/**
 * The meter provider the app and the instrumentations see: the SDK's, with histograms that keep
 * exemplars in `store`. Flush and shutdown stay with the SDK provider.
 */
export class ExemplarMeterProvider implements MeterProvider {
  private readonly meters = new Map<string, Meter>();

  constructor(
    private readonly inner: MeterProvider,
    private readonly store: ExemplarStore,
    private readonly filter: Exclude<ExemplarFilter, 'always_off'>,
  ) {}

  getMeter(name: string, version = '', options?: MeterOptions): Meter {
    const id = `${name}\u0000${version}\u0000${options?.schemaUrl ?? ''}`;
    let meter = this.meters.get(id);
    if (meter === undefined) {
      meter = new ExemplarMeter(this.inner.getMeter(name, version, options), name, version, this.store, this.filter);
      this.meters.set(id, meter);
    }
    return meter;
  }
}
