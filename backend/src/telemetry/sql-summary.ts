export interface SqlSummary {
  operation: string;
  collection: string | undefined;
  /** `SELECT renovation_sessions`: the span name the database conventions ask for. */
  name: string;
}

const OPERATION = /^\s*(select|insert|update|delete|with|begin|commit|rollback|set|create|alter|drop|lock)\b/i;
const TABLE: Record<string, RegExp> = {
  SELECT: /\bfrom\s+"?([\w.]+)"?/i,
  DELETE: /\bfrom\s+"?([\w.]+)"?/i,
  INSERT: /\binto\s+"?([\w.]+)"?/i,
  UPDATE: /^\s*update\s+"?([\w.]+)"?/i,
  LOCK: /^\s*lock\s+(?:table\s+)?"?([\w.]+)"?/i,
};

// The app issues a few dozen distinct statements; summarising each once keeps the
// regexes off the per-query path. Bounded so ad-hoc SQL cannot grow it without limit.
const cache = new Map<string, SqlSummary | undefined>();
const CACHE_LIMIT = 500;

/** Operation and main table of a statement, from its text (never its parameters). */
export function summarizeSql(text: string): SqlSummary | undefined {
  if (cache.has(text)) return cache.get(text);
  const operation = OPERATION.exec(text)?.[1]?.toUpperCase();
  let summary: SqlSummary | undefined;
  if (operation !== undefined) {
    const collection = TABLE[operation]?.exec(text)?.[1];
    summary = { operation, collection, name: collection ? `${operation} ${collection}` : operation };
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, summary);
  return summary;
}
