import { createRequire } from 'node:module';
import type { Attributes } from '@opentelemetry/api';

type Hash = (attributes: Attributes) => string;

/** The module of sdk-metrics that holds `hashAttributes` (not in its exports map: reached by file). */
export function sdkMetricsUtils(): { hashAttributes?: unknown } {
  const entry = createRequire(__filename).resolve('@opentelemetry/sdk-metrics');
  return createRequire(entry)('./utils.cjs') as { hashAttributes?: unknown };
}

const CACHED = Symbol.for('renovation-agent.metrics.cached-attribute-hash');

/** A frozen attribute set whose values are primitives or frozen arrays: its hash can never change. */
function isImmutable(attributes: Attributes): boolean {
  if (!Object.isFrozen(attributes)) return false;
  for (const key in attributes) {
    const value = attributes[key];
    if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) return false;
  }
  return true;
}

/**
 * sdk-metrics finds a record's series by a string it builds from the attributes on every
 * record: keys sorted, then JSON-encoded (`hashAttributes`, about 0.6 µs for five
 * attributes, then a Map lookup on a new string). Our hot records (request and query
 * durations, pool counters) pass the same frozen objects again and again, so the string
 * is kept per object: a WeakMap lookup, and the Map finds the same string it hashed
 * before. Only immutable objects are cached (frozen, nested arrays frozen too); any other
 * object is hashed as before, and the string is always the SDK's own, so series are
 * keyed exactly as without this.
 *
 * Relies on sdk-metrics' internal `utils.hashAttributes` (3.1), which `AttributeHashMap`
 * reads when it is constructed: call this before the meter provider is made. If an
 * upgrade moves it, nothing breaks, records just cost what they did, and
 * `attribute-hash.test.ts` fails to say so. Returns whether the cache is in place.
 */
export function cacheAttributeHashes(): boolean {
  try {
    const utils = sdkMetricsUtils();
    const original = utils.hashAttributes as (Hash & { [CACHED]?: true }) | undefined;
    if (typeof original !== 'function') return false;
    if (original[CACHED] === true) return true;
    const hashes = new WeakMap<Attributes, string>();
    const cached: Hash & { [CACHED]?: true } = function hashAttributes(attributes) {
      let hash = hashes.get(attributes);
      if (hash !== undefined) return hash;
      hash = original(attributes);
      if (isImmutable(attributes)) hashes.set(attributes, hash);
      return hash;
    };
    cached[CACHED] = true;
    utils.hashAttributes = cached;
    return true;
  } catch {
    return false;
  }
}
