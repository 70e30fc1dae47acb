import { createRequire } from 'node:module';
import { SamplingDecision, type Attributes, type SpanContext } from '@opentelemetry/api';
import { ATTR_OTEL_SPAN_PARENT_ORIGIN, ATTR_OTEL_SPAN_SAMPLING_RESULT } from '../attributes';

interface Counter {
  add(value: number, attributes?: Attributes): void;
}
interface TracerMetricsLike {
  startedSpans: Counter;
  liveSpans: Counter;
}
type StartSpan = (this: TracerMetricsLike, parent: SpanContext | undefined, decision: SamplingDecision) => () => void;

/** The class of sdk-trace that counts spans (not in its exports map: reached by file). */
export function sdkTraceMetricsClass(): { prototype: { startSpan?: unknown } } | undefined {
  const entry = createRequire(__filename).resolve('@opentelemetry/sdk-trace');
  return (createRequire(entry)('./TracerMetrics.cjs') as { TracerMetrics?: { prototype: { startSpan?: unknown } } })
    .TracerMetrics;
}

const CHEAP = Symbol.for('renovation-agent.sdk-trace.cheap-span-counters');
/** The SDK's names for a decision, by its value (NOT_RECORD 0, RECORD 1, RECORD_AND_SAMPLED 2). */
const RESULTS = ['DROP', 'RECORD_ONLY', 'RECORD_AND_SAMPLE'] as const;

// every attribute set the two counters can carry, frozen, so sdk-metrics hashes each once
// (metrics/attribute-hash.ts): by parent origin and decision, and by decision
const startedSets = (origin: 'none' | 'remote' | 'local') =>
  RESULTS.map((result) =>
    Object.freeze({ [ATTR_OTEL_SPAN_PARENT_ORIGIN]: origin, [ATTR_OTEL_SPAN_SAMPLING_RESULT]: result }),
  );
const STARTED = { none: startedSets('none'), remote: startedSets('remote'), local: startedSets('local') };
const LIVE = RESULTS.map((result) => Object.freeze({ [ATTR_OTEL_SPAN_SAMPLING_RESULT]: result }));
const nothing = () => {};

/**
 * The tracer provider counts spans in `otel.sdk.span.started` (and the sampled ones in
 * `otel.sdk.span.live`) because it has a meter provider: one record for every span, an
 * unsampled request's non-recording span too, each with a new attributes object that
 * sdk-metrics sorts and JSON-encodes. The same records with the same attributes, taken from
 * the possible sets built once.
 *
 * Relies on sdk-trace's internal `TracerMetrics.prototype.startSpan` (3.1): replaced on the
 * prototype, so tracers made before or after are alike. If an upgrade moves it nothing
 * breaks, the counters just cost what they did, and `tracer-metrics.test.ts` fails to say
 * so. Returns whether the cheaper counters are in place.
 */
export function cheapSpanCounters(): boolean {
  try {
    const prototype = sdkTraceMetricsClass()?.prototype as { startSpan?: StartSpan & { [CHEAP]?: true } } | undefined;
    if (typeof prototype?.startSpan !== 'function') return false;
    if (prototype.startSpan[CHEAP] === true) return true;
    const original = prototype.startSpan;
    const cheap: StartSpan & { [CHEAP]?: true } = function startSpan(parent, decision) {
      const attributes = STARTED[!parent ? 'none' : parent.isRemote ? 'remote' : 'local'][decision];
      // a decision this table does not know: the SDK's own code handles it
      if (attributes === undefined) return original.call(this, parent, decision);
      this.startedSpans.add(1, attributes);
      if (decision === SamplingDecision.NOT_RECORD) return nothing;
      const liveAttributes = LIVE[decision];
      this.liveSpans.add(1, liveAttributes);
      return () => this.liveSpans.add(-1, liveAttributes);
    };
    cheap[CHEAP] = true;
    prototype.startSpan = cheap;
    return true;
  } catch {
    return false;
  }
}
