import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { setForceSampled } from './force-sample';
import { AppSampler, TokenBucket } from './sampler';
import { CRITICAL_OPERATIONS } from './rules';

const TRACE = 'f'.repeat(32); // the highest trace id: never under a ratio below 1
const remote = (flags: TraceFlags) =>
  trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: 'a'.repeat(16), traceFlags: flags, isRemote: true });
const local = (flags: TraceFlags) =>
  trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: 'b'.repeat(16), traceFlags: flags, isRemote: false });

function sampler(
  name: 'parentbased_traceidratio' | 'traceidratio' | 'parentbased_always_off' = 'parentbased_traceidratio',
  trusted = new TokenBucket(100, 100),
) {
  return new AppSampler({ name, ratio: 0, criticalOperations: CRITICAL_OPERATIONS, trusted });
}
const decide = (s: AppSampler, ctx = ROOT_CONTEXT, kind = SpanKind.SERVER, attributes = {}) =>
  s.shouldSample(ctx, TRACE, 'x', kind, attributes, []).decision;

describe('AppSampler', () => {
  it('when nothing asks for it, then ratio 0 keeps nothing', () => {
    expect(decide(sampler())).toBe(SamplingDecision.NOT_RECORD);
  });

  it('when x-force-sample came in, then it is kept, even under an unsampled remote parent', () => {
    expect(decide(sampler(), setForceSampled(ROOT_CONTEXT))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(sampler(), setForceSampled(remote(TraceFlags.NONE)))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('when the request is a critical operation, then it is kept (trailing slash too), but only as a server span', () => {
    const payment = { 'http.request.method': 'POST', 'url.path': '/api/payments/' };
    expect(decide(sampler(), ROOT_CONTEXT, SpanKind.SERVER, payment)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(sampler(), ROOT_CONTEXT, SpanKind.CLIENT, payment)).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(sampler(), ROOT_CONTEXT, SpanKind.SERVER, { ...payment, 'http.request.method': 'GET' })).toBe(
      SamplingDecision.NOT_RECORD,
    );
  });

  it('when the parent is remote, then sampled is trusted within the rate and unsampled is respected', () => {
    expect(decide(sampler(), remote(TraceFlags.SAMPLED))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(sampler(), remote(TraceFlags.NONE))).toBe(SamplingDecision.NOT_RECORD);
  });

  it('when the parent is local, then children follow it and spend no tokens', () => {
    const bucket = new TokenBucket(1, 1);
    const s = sampler('parentbased_traceidratio', bucket);
    for (let i = 0; i < 5; i++)
      expect(decide(s, setForceSampled(local(TraceFlags.SAMPLED)))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(s, local(TraceFlags.NONE))).toBe(SamplingDecision.NOT_RECORD);
    expect(bucket.take()).toBe(true);
  });

  it('when forced and remote-sampled decisions exceed the bucket, then the ratio decides', () => {
    const s = sampler('parentbased_traceidratio', new TokenBucket(0.0001, 2));
    expect(decide(s, setForceSampled(ROOT_CONTEXT))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(s, remote(TraceFlags.SAMPLED))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(s, setForceSampled(ROOT_CONTEXT))).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(s, remote(TraceFlags.SAMPLED))).toBe(SamplingDecision.NOT_RECORD);
  });

  it('when the sampler is always_off, then nothing forces it on', () => {
    expect(decide(sampler('parentbased_always_off'), setForceSampled(ROOT_CONTEXT))).toBe(SamplingDecision.NOT_RECORD);
  });

  it('when the sampler is not parent-based, then a sampled remote parent does not force it', () => {
    expect(decide(sampler('traceidratio'), remote(TraceFlags.SAMPLED))).toBe(SamplingDecision.NOT_RECORD);
  });
});

describe('AppSampler housekeeping', () => {
  it('when BullMQ starts a timer root span, then it is dropped, but not a job span or a child', () => {
    const s = new AppSampler({
      name: 'parentbased_always_on',
      ratio: 1,
      criticalOperations: [],
      trusted: new TokenBucket(100, 100),
      housekeeping: /^(?:extendLocks|moveStalledJobsToWait) /,
    });
    expect(
      s.shouldSample(ROOT_CONTEXT, TRACE, 'extendLocks renovation-plans', SpanKind.INTERNAL, {}, []).decision,
    ).toBe(SamplingDecision.NOT_RECORD);
    expect(s.shouldSample(ROOT_CONTEXT, TRACE, 'process renovation-plans', SpanKind.CONSUMER, {}, []).decision).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(
      s.shouldSample(local(TraceFlags.SAMPLED), TRACE, 'extendLocks renovation-plans', SpanKind.INTERNAL, {}, [])
        .decision,
    ).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
});

describe('TokenBucket', () => {
  it('when the burst is spent, then it refills at the rate', async () => {
    const bucket = new TokenBucket(20, 2);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(bucket.take()).toBe(true);
  });

  it('when the rate is 0, then it never grants', () => {
    expect(new TokenBucket(0, 10).take()).toBe(false);
  });
});
