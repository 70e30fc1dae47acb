import type {
  Attributes,
  Counter,
  Meter,
  MeterOptions,
  MeterProvider,
  MetricOptions,
  ObservableResult,
  UpDownCounter,
} from '@opentelemetry/api';

/** The attribute set the SDK uses past its cardinality limit, used here the same way. */
const OVERFLOW: Attributes = Object.freeze({ 'otel.metric.overflow': true });
/** The SDK's default cardinality limit per instrument. */
const MAX_SERIES = 2000;

interface Series {
  readonly attributes: Attributes;
  value: number;
}

/** One step of the path an attribute set takes, key by key, value by value, in its own order. */
interface Step {
  series?: Series;
  next?: Map<string, Map<unknown, Step>>;
}

/** The same attribute set in any key order gives the same key. */
function canonicalKey(attributes: Attributes): string {
  return JSON.stringify(
    Object.keys(attributes)
      .sort()
      .map((key) => [key, attributes[key]]),
  );
}

/**
 * A counter (or up-down counter) that keeps a running total per attribute set in a plain
 * number, and reports the totals through an observable instrument of the same name, unit
 * and description when metrics are collected: the exported series and values are those of
 * the synchronous instrument it stands for, exact at every collection. An `add` costs two
 * map lookups per attribute, where the SDK's synchronous instruments sort and JSON-encode
 * the attributes on every record.
 */
class SummedCounter implements Counter, UpDownCounter {
  /** By the attributes' keys and values in their own order: map lookups only, no string built. */
  private readonly root: Step = {};
  private steps = 0;
  /** By sorted keys: one series per attribute set, whatever the order it came in. */
  private readonly series = new Map<string, Series>();

  constructor(private readonly monotonic: boolean) {}

  add(value: number, attributes: Attributes = {}): void {
    if (this.monotonic && !(value >= 0)) return; // as the SDK's counter: no negative increments
    let step: Step | undefined = this.root;
    for (const name in attributes) {
      const raw = attributes[name];
      const key = typeof raw === 'object' && raw !== null ? JSON.stringify(raw) : raw;
      step.next ??= new Map();
      let byValue = step.next.get(name);
      if (byValue === undefined) {
        byValue = new Map();
        step.next.set(name, byValue);
      }
      let next = byValue.get(key);
      if (next === undefined) {
        // bounded: past the limit, attribute sets not seen yet take the slow path
        if (this.steps >= MAX_SERIES * 8) {
          step = undefined;
          break;
        }
        next = {};
        byValue.set(key, next);
        this.steps += 1;
      }
      step = next;
    }
    if (step === undefined) {
      this.seriesFor(attributes).value += value;
      return;
    }
    step.series ??= this.seriesFor(attributes);
    step.series.value += value;
  }

  private seriesFor(attributes: Attributes): Series {
    const key = canonicalKey(attributes);
    let series = this.series.get(key);
    if (series === undefined) {
      if (this.series.size >= MAX_SERIES - 1) return this.overflow();
      series = { attributes: { ...attributes }, value: 0 };
      this.series.set(key, series);
    }
    return series;
  }

  private overflow(): Series {
    const key = canonicalKey(OVERFLOW);
    let series = this.series.get(key);
    if (series === undefined) {
      series = { attributes: OVERFLOW, value: 0 };
      this.series.set(key, series);
    }
    return series;
  }

  readonly observe = (result: ObservableResult): void => {
    for (const { attributes, value } of this.series.values()) result.observe(value, attributes);
  };
}

// One summed counter per meter and name: every tracer of a provider makes its own counters
// under the same meter (each instrumentation has a tracer), and the SDK's counters of one name
// share one sum; observable callbacks of one name do not add up (the last observation wins).
const countersByMeter = new WeakMap<Meter, Map<string, SummedCounter>>();

function summingMeter(meter: Meter): Meter {
  return new Proxy(meter, {
    get(target, property, receiver) {
      if (property === 'createCounter' || property === 'createUpDownCounter') {
        const monotonic = property === 'createCounter';
        return (name: string, options?: MetricOptions) => {
          let counters = countersByMeter.get(target);
          if (counters === undefined) {
            counters = new Map();
            countersByMeter.set(target, counters);
          }
          const key = `${property} ${name}`;
          const known = counters.get(key);
          if (known !== undefined) return known;
          const counter = new SummedCounter(monotonic);
          const observable = monotonic
            ? target.createObservableCounter(name, options)
            : target.createObservableUpDownCounter(name, options);
          observable.addCallback(counter.observe);
          counters.set(key, counter);
          return counter;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The meter provider the tracer provider records its own metrics through
 * (`otel.sdk.span.started`, `otel.sdk.span.live`): three records per sampled span, each with
 * a fresh attribute object the SDK's counters would sort and JSON-encode. Through this
 * provider its counters are summed in place and reported at collection as observable
 * counters of the same name: same series, same values. Only counters change; any other
 * instrument (and any other use of the provider) goes to the real one as it is.
 */
export function summingMeterProvider(provider: MeterProvider): MeterProvider {
  return {
    getMeter: (name: string, version?: string, options?: MeterOptions) =>
      summingMeter(provider.getMeter(name, version, options)),
  };
}
