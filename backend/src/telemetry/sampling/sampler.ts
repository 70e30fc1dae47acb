import { SpanKind, trace, TraceFlags, type Attributes, type Context, type Link } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_SAMPLING_REASON, ATTR_URL_PATH } from '../attributes';
import { isForceSampled } from './force-sample';
import type { CriticalOperation } from './rules';
import type { SamplerName } from '../types';

/** `sampling.reason` on a span whose trace was kept for a reason other than the ratio. */
export { ATTR_SAMPLING_REASON } from '../attributes';

/** A token bucket: `ratePerSecond` sustained, `burst` at once. Rate 0 means never. */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    if (this.ratePerSecond <= 0 || this.burst <= 0) return false;
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface AppSamplerOptions {
  /** The spec sampler (OTEL_TRACES_SAMPLER) and its ratio (OTEL_TRACES_SAMPLER_ARG). */
  name: SamplerName;
  ratio: number;
  criticalOperations: readonly CriticalOperation[];
  /** Names of root spans never sampled (housekeeping). */
  housekeeping?: RegExp;
  /** Forced and remote-parent-sampled decisions allowed per second (and at once); beyond, the ratio decides. */
  trusted: TokenBucket;
  /**
   * Behind a gateway that sets or strips `traceparent` (TRACE_TRUSTED_EDGE): a sampled
   * remote parent is followed as the spec's parent-based sampler does, without spending
   * the budget. Off at a public edge, where anyone can send a sampled traceparent.
   */
  trustRemoteSampled?: boolean;
}

function stripSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/**
 * The spec's samplers plus what production needs:
 * - **always sampled**: requests with `x-force-sample: true` and critical operations
 *   (matched by method and `url.path`, the attributes an HTTP server span has at
 *   sampling time), even under an incoming unsampled `traceparent`;
 * - **trust boundary**: forcing, and a *sampled* incoming `traceparent`, are decisions
 *   anyone on the internet can make for us. Beyond a token bucket (default 100/s) they
 *   fall back to the ratio; the trace id is still continued either way. Behind a
 *   trusted edge (`trustRemoteSampled`) a sampled parent is simply followed.
 * Local children follow their parent (one decision per trace). `always_off` stays off.
 * Housekeeping roots (BullMQ's timers) are never sampled.
 */
export class AppSampler implements Sampler {
  private readonly base: Sampler;
  private readonly root: Sampler;
  private readonly honoursParent: boolean;
  private readonly forcing: boolean;
  /** Methods some critical rule names: a request with another method skips the rules (most requests). */
  private readonly criticalMethods: ReadonlySet<string>;

  constructor(private readonly options: AppSamplerOptions) {
    this.criticalMethods = new Set(options.criticalOperations.map((rule) => rule.method));
    const { name, ratio } = options;
    this.root = name.endsWith('always_on')
      ? new AlwaysOnSampler()
      : name.endsWith('always_off')
        ? new AlwaysOffSampler()
        : new TraceIdRatioBasedSampler(ratio);
    this.honoursParent = name.startsWith('parentbased_');
    this.base = this.honoursParent ? new ParentBasedSampler({ root: this.root }) : this.root;
    this.forcing = !name.endsWith('always_off');
  }

  shouldSample(
    ctx: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    const parent = trace.getSpanContext(ctx);
    if (parent === undefined && this.options.housekeeping?.test(spanName))
      return { decision: SamplingDecision.NOT_RECORD };
    const entry = parent === undefined || !trace.isSpanContextValid(parent) || parent.isRemote === true;
    if (entry && this.forcing) {
      const reason = isForceSampled(ctx)
        ? 'force-header'
        : this.isCritical(spanKind, attributes)
          ? 'critical-operation'
          : undefined;
      if (reason !== undefined) {
        if (this.options.trusted.take())
          return { decision: SamplingDecision.RECORD_AND_SAMPLED, attributes: { [ATTR_SAMPLING_REASON]: reason } };
        return this.root.shouldSample(ctx, traceId, spanName, spanKind, attributes, links);
      }
    }
    if (
      this.honoursParent &&
      parent?.isRemote === true &&
      trace.isSpanContextValid(parent) &&
      (parent.traceFlags & TraceFlags.SAMPLED) !== 0
    ) {
      if (this.options.trustRemoteSampled === true || this.options.trusted.take())
        return { decision: SamplingDecision.RECORD_AND_SAMPLED };
      return this.root.shouldSample(ctx, traceId, spanName, spanKind, attributes, links);
    }
    return this.base.shouldSample(ctx, traceId, spanName, spanKind, attributes, links);
  }

  private isCritical(kind: SpanKind, attributes: Attributes): boolean {
    if (kind !== SpanKind.SERVER) return false;
    const method = attributes[ATTR_HTTP_REQUEST_METHOD];
    if (typeof method !== 'string' || !this.criticalMethods.has(method)) return false;
    const path = attributes[ATTR_URL_PATH];
    if (typeof path !== 'string') return false;
    const normalized = stripSlash(path);
    return this.options.criticalOperations.some(
      (rule) =>
        rule.method === method &&
        (typeof rule.path === 'string' ? rule.path === normalized : rule.path.test(normalized)),
    );
  }

  toString(): string {
    return `AppSampler{${this.options.name}, ratio=${this.options.ratio}}`;
  }
}
