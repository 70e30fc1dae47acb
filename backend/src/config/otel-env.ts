import { z } from 'zod';

/**
 * Field builders for the `OTEL_*` variables, parsed the way the OpenTelemetry SDK
 * environment-variable specification asks: enum values case-insensitive; an unknown or
 * malformed value is a warning that names the variable, the value and what is used
 * instead, and start-up goes on. (Our own variables stay strict: see env.ts.) No
 * reading of `process.env` here: env.ts feeds the values in.
 */

export interface EnvWarning {
  variable: string;
  message: string;
}

let sink: EnvWarning[] | undefined;

/** Runs one parse with a fresh warning list (parsing is synchronous). */
export function collectWarnings<T>(parse: () => T): { result: T; warnings: EnvWarning[] } {
  const previous = sink;
  const warnings: EnvWarning[] = [];
  sink = warnings;
  try {
    return { result: parse(), warnings };
  } finally {
    sink = previous;
  }
}

/** Records a warning about `variable` for the current parse. */
export function warnEnv(variable: string, message: string): void {
  sink?.push({ variable, message });
}

const blank = (value: string | undefined): value is undefined => value === undefined || value.trim() === '';

/** `true` only for case-insensitive "true"; "false" or empty is false; anything else warns and is false. */
export const otelBool = (name: string, description: string) =>
  z
    .string()
    .optional()
    .transform((value) => {
      if (blank(value)) return false;
      const normalized = value.trim().toLowerCase();
      if (normalized === 'true') return true;
      if (normalized !== 'false')
        warnEnv(name, `${name}="${value}" is not a boolean (only true or false, any case); using false`);
      return false;
    })
    .describe(description);

/** One of `values` (case-insensitive); otherwise a warning and `fallback`. */
export const otelEnum = <const T extends string, F extends T | undefined>(
  name: string,
  values: readonly T[],
  fallback: F,
  description: string,
  unsupported: Record<string, string> = {},
) =>
  z
    .string()
    .optional()
    .transform((value): T | F => {
      if (blank(value)) return fallback;
      const normalized = value.trim().toLowerCase();
      const found = values.find((known) => known === normalized);
      if (found !== undefined) return found;
      const instead = fallback === undefined ? 'the default' : `"${fallback}"`;
      const why = unsupported[normalized] ?? `expected one of ${values.join(', ')}`;
      warnEnv(name, `${name}="${value}" is not supported (${why}); using ${instead}`);
      return fallback;
    })
    .describe(description);

/**
 * A comma-separated list of names (case-insensitive, duplicates removed); unknown names
 * are dropped with a warning. Unset or empty gives `fallback`.
 */
export const otelList = <const T extends string>(
  name: string,
  values: readonly T[],
  fallback: readonly T[],
  description: string,
  unsupported: Record<string, string> = {},
  /** What a list naming nothing usable means: the fallback (default), or nothing at all. */
  whenNothingUsable: 'fallback' | 'nothing' = 'fallback',
) =>
  z
    .string()
    .optional()
    .transform((value): T[] => {
      if (blank(value)) return [...fallback];
      const names = [
        ...new Set(
          value
            .split(',')
            .map((entry) => entry.trim().toLowerCase())
            .filter((entry) => entry !== ''),
        ),
      ];
      const known = names.filter((entry): entry is T => (values as readonly string[]).includes(entry));
      for (const entry of names.filter((entry) => !(values as readonly string[]).includes(entry))) {
        const why = unsupported[entry] ?? `expected ${values.join(', ')}`;
        warnEnv(name, `${name}: "${entry}" is not supported (${why}); it is ignored`);
      }
      if (known.length === 0) {
        const used = whenNothingUsable === 'nothing' ? [] : [...fallback];
        warnEnv(name, `${name}="${value}" names nothing usable; using ${used.join(',') || 'nothing'}`);
        return used;
      }
      return known;
    })
    .describe(description);

/** An integer in [min, max]; otherwise a warning and `fallback` (undefined: the SDK's own default). */
export const otelInt = <F extends number | undefined>(
  name: string,
  fallback: F,
  description: string,
  { min = 0, max = Number.MAX_SAFE_INTEGER } = {},
) =>
  z
    .string()
    .optional()
    .transform((value): number | F => {
      if (blank(value)) return fallback;
      const parsed = Number(value.trim());
      if (Number.isInteger(parsed) && parsed >= min && parsed <= max) return parsed;
      warnEnv(
        name,
        `${name}="${value}" is not an integer between ${min} and ${max}; using ${fallback ?? 'the SDK default'}`,
      );
      return fallback;
    })
    .describe(description);

/** An absolute URL; otherwise a warning and the default. */
export const otelUrl = (name: string, description: string) =>
  z
    .string()
    .optional()
    .transform((value) => {
      if (blank(value)) return undefined;
      const trimmed = value.trim();
      if (URL.canParse(trimmed) && /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return trimmed;
      // credentials written into a URL (user:password@) stay out of the log line
      const shown = value.replace(/^([^@]*\/\/)?[^/@]*@/, '$1[REDACTED]@');
      warnEnv(name, `${name}="${shown}" is not an absolute URL such as http://localhost:4318; using the default`);
      return undefined;
    })
    .describe(description);

/**
 * `key1=value1,key2=value2` (W3C baggage format, values percent-encoded). A malformed
 * entry is named by position only: these variables carry API keys, so the value never
 * reaches a log line. The exporter reads the variable itself; this only checks it.
 */
export const otelHeaders = (name: string, description: string) =>
  z
    .string()
    .optional()
    .transform((value) => {
      if (blank(value)) return undefined;
      const entries = value.split(',');
      entries.forEach((entry, index) => {
        const separator = entry.indexOf('=');
        if (
          entry.trim() === '' ||
          separator <= 0 ||
          entry.slice(0, separator).trim() === '' ||
          /\s/.test(entry.slice(0, separator).trim())
        ) {
          warnEnv(
            name,
            `${name} is malformed: entry ${index + 1} of ${entries.length} is not key=value (expected key1=value1,key2=value2, ` +
              'e.g. x-honeycomb-team=KEY, with spaces written %20); that header is not sent',
          );
        }
      });
      return value.trim();
    })
    .describe(description);

/** A free string (no parsing rules), trimmed; empty is unset. */
export const otelString = (description: string) =>
  z
    .string()
    .optional()
    .transform((value) => (blank(value) ? undefined : value.trim()))
    .describe(description);
