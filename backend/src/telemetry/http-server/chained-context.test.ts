import { ROOT_CONTEXT, createContextKey, type Context } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ChainedContext } from './chained-context';

const keys = Array.from({ length: 6 }, (_, i) => createContextKey(`key ${i}`));

describe('ChainedContext', () => {
  it('when values are set, overwritten and deleted, then it reads as the API’s own context does', () => {
    let ours: Context = ChainedContext.EMPTY;
    let theirs: Context = ROOT_CONTEXT;
    // a fixed pseudo-random walk, long enough to pass the flattening depth several times
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    const snapshots: Array<[Context, Context]> = [];
    for (let step = 0; step < 200; step++) {
      const key = keys[next() % keys.length]!;
      if (next() % 4 === 0) {
        ours = ours.deleteValue(key);
        theirs = theirs.deleteValue(key);
      } else {
        ours = ours.setValue(key, step);
        theirs = theirs.setValue(key, step);
      }
      if (step % 10 === 0) snapshots.push([ours, theirs]);
      for (const k of keys) expect(ours.getValue(k)).toBe(theirs.getValue(k));
    }
    // a context is a value: later derivations never change an earlier one
    for (const [earlierOurs, earlierTheirs] of snapshots)
      for (const k of keys) expect(earlierOurs.getValue(k)).toBe(earlierTheirs.getValue(k));
  });

  it('when a long-lived context is derived again and again, then its chain stays short', () => {
    let ctx: Context = ChainedContext.EMPTY;
    for (let i = 0; i < 1000; i++) ctx = ctx.setValue(keys[0]!, { large: i });
    let links = 0;
    for (let link = ctx as unknown as { parent?: unknown }; link !== undefined; link = link.parent as typeof link)
      links++;
    expect(links).toBeLessThanOrEqual(18);
    expect(ctx.getValue(keys[0]!)).toEqual({ large: 999 });
  });
});
