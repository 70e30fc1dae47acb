import { createRequire } from 'node:module';
import type { Attributes } from '@opentelemetry/api';
import { ATTR_DB_CLIENT_CONNECTION_POOL_NAME, ATTR_DB_CLIENT_CONNECTION_STATE } from '../attributes';

interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}
interface Counted {
  used: number;
  idle: number;
  pending: number;
}
interface UpDownCounter {
  add(value: number, attributes?: Attributes): void;
}
type UpdateCounter = (
  poolName: string,
  pool: PoolCounts,
  connectionCount: UpDownCounter,
  pendingRequests: UpDownCounter,
  latest: Counted,
) => Counted;

/** The module of instrumentation-pg that holds `updateCounter` (not in its exports map: reached by file). */
export function pgInstrumentationUtils(): { updateCounter?: unknown } {
  const entry = createRequire(__filename).resolve('@opentelemetry/instrumentation-pg');
  return createRequire(entry)('./utils.cjs') as { updateCounter?: unknown };
}

const CHEAP = Symbol.for('renovation-agent.pg.cheap-pool-counters');

interface PoolSeries {
  readonly used: Attributes;
  readonly idle: Attributes;
  readonly pending: Attributes;
}

// per counter instrument (a new meter provider makes new ones), per pool name: the three
// series' attributes, frozen so sdk-metrics hashes each once (metrics/attribute-hash.ts)
const seriesByCounter = new WeakMap<object, Map<string, PoolSeries>>();

function seriesOf(counter: object, poolName: string): { series: PoolSeries; first: boolean } {
  let pools = seriesByCounter.get(counter);
  if (pools === undefined) {
    pools = new Map();
    seriesByCounter.set(counter, pools);
  }
  const known = pools.get(poolName);
  if (known !== undefined) return { series: known, first: false };
  const series: PoolSeries = {
    used: Object.freeze({ [ATTR_DB_CLIENT_CONNECTION_STATE]: 'used', [ATTR_DB_CLIENT_CONNECTION_POOL_NAME]: poolName }),
    idle: Object.freeze({ [ATTR_DB_CLIENT_CONNECTION_STATE]: 'idle', [ATTR_DB_CLIENT_CONNECTION_POOL_NAME]: poolName }),
    pending: Object.freeze({ [ATTR_DB_CLIENT_CONNECTION_POOL_NAME]: poolName }),
  };
  pools.set(poolName, series);
  return { series, first: true };
}

/**
 * instrumentation-pg keeps `db.client.connection.count` (used, idle) and
 * `.pending_requests` up to date on every pool event: each query's connection acquired and
 * released makes three `add` calls, each with new attribute objects, so sdk-metrics sorts
 * and JSON-encodes six attribute sets per query (the profile showed these counters costing
 * more than the request and query durations together). The same counts, the same
 * attributes: here each set is built once per pool, and an add of zero is left out once
 * the pool's series exist (the first event records all three, so each series is there from
 * the start).
 *
 * Relies on instrumentation-pg's internal `utils.updateCounter` (0.77), which its pool
 * listeners look up on every event. If an upgrade renames it nothing breaks, the counters
 * just cost what they did, and `pg-pool-metrics.test.ts` fails to say so. Returns whether
 * the cheaper counters are in place.
 */
export function cheapPoolCounters(): boolean {
  try {
    const utils = pgInstrumentationUtils();
    const original = utils.updateCounter as (UpdateCounter & { [CHEAP]?: true }) | undefined;
    if (typeof original !== 'function') return false;
    if (original[CHEAP] === true) return true;
    const cheap: UpdateCounter & { [CHEAP]?: true } = (poolName, pool, connectionCount, pendingRequests, latest) => {
      const idle = pool.idleCount;
      const used = pool.totalCount - idle;
      const pending = pool.waitingCount;
      const { series, first } = seriesOf(connectionCount, poolName);
      if (first || used !== latest.used) connectionCount.add(used - latest.used, series.used);
      if (first || idle !== latest.idle) connectionCount.add(idle - latest.idle, series.idle);
      if (first || pending !== latest.pending) pendingRequests.add(pending - latest.pending, series.pending);
      return { used, idle, pending };
    };
    cheap[CHEAP] = true;
    utils.updateCounter = cheap;
    return true;
  } catch {
    return false;
  }
}
