import type { Context } from '@opentelemetry/api';

/** Past this many values a context is copied flat, so a long chain of derivations holds no stale values. */
const MAX_DEPTH = 16;

/**
 * An OpenTelemetry `Context` as a chain: each `setValue` adds one link in front of its
 * parent instead of copying the parent's Map, as the API's own context does (a new Map from
 * the old one's entries, about 0.2 µs each). A request's context is built from a few
 * values (request id, span, RPC metadata) and read a few times, so a short chain is the
 * cheaper shape; the chain is flattened past MAX_DEPTH links, so a long-lived context
 * derived over and over (a socket's) does not keep overwritten values alive.
 */
export class ChainedContext implements Context {
  static readonly EMPTY: Context = new ChainedContext(undefined, undefined, undefined, 0);

  private constructor(
    private readonly parent: ChainedContext | undefined,
    private readonly key: symbol | undefined,
    private readonly value: unknown,
    private readonly depth: number,
  ) {}

  getValue(key: symbol): unknown {
    for (let link: ChainedContext | undefined = this; link !== undefined; link = link.parent)
      if (link.key === key) return link.value;
    return undefined;
  }

  setValue(key: symbol, value: unknown): Context {
    const parent = this.depth < MAX_DEPTH ? this : this.flattened(key);
    return new ChainedContext(parent, key, value, parent.depth + 1);
  }

  deleteValue(key: symbol): Context {
    return this.setValue(key, undefined);
  }

  /** The same values, each once, the one about to be set left out. */
  private flattened(except: symbol): ChainedContext {
    const seen = new Set<symbol>([except]);
    let flat = ChainedContext.EMPTY as ChainedContext;
    for (let link: ChainedContext | undefined = this; link !== undefined; link = link.parent) {
      if (link.key === undefined || seen.has(link.key)) continue;
      seen.add(link.key);
      if (link.value !== undefined) flat = new ChainedContext(flat, link.key, link.value, flat.depth + 1);
    }
    return flat;
  }
}
