import { createRequire } from 'node:module';
import type { Attributes, AttributeValue } from '@opentelemetry/api';

interface Limits {
  attributeCountLimit?: number;
  attributeValueLengthLimit?: number;
}
interface Cleaned {
  attributes?: Attributes;
  droppedAttributesCount?: number;
}
type CleanAttributes = ((attributes: unknown, limits: Limits) => Cleaned) & { [FAST]?: true };
interface AddOptions {
  key: string;
  value: unknown;
  attributes: Attributes;
  limits: Limits;
  currentAttributesCount: number;
}
type MaybeAddAttribute = ((options: AddOptions) => number) & { [FAST]?: true };

interface Core {
  cleanAttributes?: unknown;
  maybeAddAttribute?: unknown;
  AddAttributeDecision?: { DROP_LIMIT_REACHED?: unknown; ADD_NEW?: unknown; ADD_OVERWRITE_EXISTING?: unknown };
}

/** The `@opentelemetry/core` that `@opentelemetry/sdk-trace` loads (its spans call through its exports). */
export function coreOfSdkTrace(): Core {
  const sdkTrace = createRequire(__filename).resolve('@opentelemetry/sdk-trace');
  return createRequire(sdkTrace)('@opentelemetry/core') as Core;
}

const FAST = Symbol.for('renovation-agent.otel.primitive-attributes');

/**
 * The SDK checks every attribute value against the spec's AnyValue (core 3.1's `isAnyValue`),
 * and that check allocates a `WeakSet` for cycle detection before it looks at the value's
 * type: for each attribute of each span, twice per attribute given to `startSpan` (once
 * before the sampler, once after) and once per `setAttribute`. `cleanAttributes` also lists
 * the attributes with `Object.entries` (an array per attribute). A span of six string
 * attributes spent about 1.2 µs in each `cleanAttributes` call.
 *
 * Nearly every attribute is a string, a number or a boolean, for which the check can only say
 * yes. This puts a fast path in front of the two exported functions that `sdk-trace` calls
 * (`cleanAttributes`, `maybeAddAttribute`): when every value is such a primitive within the
 * limits, the result is built directly, and it is the same result (same keys in the same
 * order, same values, same count, same decision); anything else (an array, a map, a byte
 * array, a string over the length limit, an empty key, the count limit reached, an invalid
 * limit) goes to the original, which warns, drops and truncates as before.
 * `primitive-attributes.test.ts` runs both over the same inputs and compares.
 *
 * sdk-trace reads these functions from core's exports object on every call, so replacing
 * the exported properties reaches it. If an upgrade moves them (an ESM build, getters, other
 * names), nothing breaks: this does nothing, attributes cost what they did, and the test
 * fails to say so. Returns whether the fast path is in place.
 */
export function fastPrimitiveAttributes(): boolean {
  try {
    const core = coreOfSdkTrace();
    const clean = core.cleanAttributes as CleanAttributes | undefined;
    const maybeAdd = core.maybeAddAttribute as MaybeAddAttribute | undefined;
    const decisions = core.AddAttributeDecision;
    const limitReached = decisions?.DROP_LIMIT_REACHED;
    const added = decisions?.ADD_NEW;
    const overwritten = decisions?.ADD_OVERWRITE_EXISTING;
    if (typeof clean !== 'function' || typeof maybeAdd !== 'function') return false;
    if (typeof limitReached !== 'number' || typeof added !== 'number' || typeof overwritten !== 'number') return false;
    if (clean[FAST] === true && maybeAdd[FAST] === true) return true;

    const fastClean: CleanAttributes = function cleanAttributes(input, limits) {
      if (typeof input !== 'object' || input === null) return clean(input, limits);
      const lengthLimit = limits.attributeValueLengthLimit;
      const countLimit = limits.attributeCountLimit;
      if (!(lengthLimit !== undefined && lengthLimit > 0)) return clean(input, limits);
      const source = input as Record<string, unknown>;
      const attributes: Attributes = {};
      const keys = Object.keys(source);
      let count = 0;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const value = source[key];
        switch (typeof value) {
          case 'undefined':
            continue;
          case 'string':
            if (value.length > lengthLimit) return clean(input, limits);
            break;
          case 'number':
          case 'boolean':
            break;
          default:
            return clean(input, limits);
        }
        if ((countLimit !== undefined && count >= countLimit) || key.length === 0) return clean(input, limits);
        attributes[key] = value as AttributeValue;
        count++;
      }
      return { attributes, droppedAttributesCount: 0 };
    };
    fastClean[FAST] = true;

    const fastMaybeAdd: MaybeAddAttribute = function maybeAddAttribute(options) {
      const { value, key, limits } = options;
      const type = typeof value;
      if (type !== 'string' && type !== 'number' && type !== 'boolean') return maybeAdd(options);
      const lengthLimit = limits.attributeValueLengthLimit;
      if (key.length === 0 || !(lengthLimit !== undefined && lengthLimit > 0)) return maybeAdd(options);
      if (type === 'string' && (value as string).length > lengthLimit) return maybeAdd(options);
      const isNewKey = !Object.hasOwn(options.attributes, key);
      const countLimit = limits.attributeCountLimit;
      if (isNewKey && countLimit !== undefined && options.currentAttributesCount >= countLimit) return limitReached;
      options.attributes[key] = value as AttributeValue;
      return isNewKey ? added : overwritten;
    };
    fastMaybeAdd[FAST] = true;

    core.cleanAttributes = fastClean;
    core.maybeAddAttribute = fastMaybeAdd;
    return core.cleanAttributes === fastClean && core.maybeAddAttribute === fastMaybeAdd;
  } catch {
    return false;
  }
}
