import { createContextKey, type Context, type TextMapGetter, type TextMapPropagator } from '@opentelemetry/api';

/**
 * `x-force-sample: true` asks for a trace to be kept whatever the ratio. It enters as a
 * propagator so the sampler sees it in the context it decides in, before any span
 * exists. It is not passed on to downstream services: the sampled flag in
 * `traceparent` already says what we decided.
 */
export const FORCE_SAMPLE_HEADER = 'x-force-sample';
const FORCE_SAMPLE = createContextKey('renovation-agent.force-sample');

export function isForceSampled(ctx: Context): boolean {
  return ctx.getValue(FORCE_SAMPLE) === true;
}

export function setForceSampled(ctx: Context): Context {
  return ctx.setValue(FORCE_SAMPLE, true);
}

export class ForceSamplePropagator implements TextMapPropagator {
  inject(): void {}

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = getter.get(carrier, FORCE_SAMPLE_HEADER);
    const value = Array.isArray(raw) ? raw[0] : raw;
    return typeof value === 'string' && value.trim().toLowerCase() === 'true' ? setForceSampled(ctx) : ctx;
  }

  fields(): string[] {
    return [FORCE_SAMPLE_HEADER];
  }
}
