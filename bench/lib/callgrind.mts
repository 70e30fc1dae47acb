/**
 * Reads a callgrind dump (`valgrind --tool=callgrind`, event Ir) into self instructions per
 * function, and names what callgrind cannot: V8's JIT code, which it knows only by address,
 * through the perf map Node writes with `--perf-basic-prof` (`/tmp/perf-<pid>.map`: start,
 * size, name per code object).
 */
import { readFileSync } from 'node:fs';
import { groupOf } from './cpu-profile.mts';

/** Self instructions per function name (callgrind's, or the JIT code's address as `0x…`). */
export function selfInstructions(file: string): Map<string, number> {
  const names = new Map<string, string>();
  const totals = new Map<string, number>();
  let fn = '';
  let skipNext = false;
  // `fn=(12) name` defines id 12, `fn=(12)` refers to it; `cfn=` lines define ids too
  const define = (value: string): string => {
    const match = /^\((\d+)\)(?: (.*))?$/.exec(value);
    if (match === null) return value;
    if (match[2] !== undefined) names.set(match[1]!, match[2]);
    return names.get(match[1]!) ?? value;
  };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) {
      fn = define(line.slice(3));
      continue;
    }
    if (line.startsWith('cfn=')) {
      define(line.slice(4));
      continue;
    }
    if (line.startsWith('calls=')) {
      // the next cost line is the call's inclusive cost, not this function's own
      skipNext = true;
      continue;
    }
    const first = line.charCodeAt(0);
    // a cost line: a position (number, +n, -n or *) then the instructions
    if (first === 43 || first === 45 || first === 42 || (first >= 48 && first <= 57)) {
      if (skipNext) {
        skipNext = false;
        continue;
      }
      const space = line.indexOf(' ');
      if (space === -1) continue;
      const cost = Number(line.slice(space + 1).split(' ')[0]);
      if (Number.isFinite(cost)) totals.set(fn, (totals.get(fn) ?? 0) + cost);
    }
  }
  return totals;
}

interface CodeRange {
  start: number;
  end: number;
  name: string;
  /** the line's place in the map: V8 reuses the addresses of code it frees, the later entry wins */
  order: number;
}

/** The code objects of a perf map, sorted by address. */
export function readPerfMap(file: string): CodeRange[] {
  const ranges: CodeRange[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (match === null) continue;
    const start = Number.parseInt(match[1]!, 16);
    ranges.push({ start, end: start + Number.parseInt(match[2]!, 16), name: match[3]!, order: ranges.length });
  }
  return ranges.sort((a, b) => a.start - b.start || a.order - b.order);
}

/**
 * The perf map's name of the code at `address`: of the code objects that held it, the one
 * written last (the code that was there during the load phase, after warm-up), or undefined.
 */
function lookup(ranges: CodeRange[], address: number): string | undefined {
  // the last range that starts at or before the address
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (ranges[middle]!.start <= address) low = middle + 1;
    else high = middle - 1;
  }
  let best: CodeRange | undefined;
  // code objects are small: the ranges that can hold the address start shortly before it
  for (let i = high; i >= 0 && i > high - 256; i--) {
    const range = ranges[i]!;
    if (address < range.end && (best === undefined || range.order > best.order)) best = range;
  }
  return best?.name;
}

/** The group of V8's optimising compilers (TurboFan, Maglev, the parser). */
export const COMPILERS = 'V8 compilers';
/** The group of the full (mark-compact) collections: marking, sweeping, compaction. */
export const FULL_GC = 'GC, full';

/**
 * A function's group, as the CPU-profile breakdown groups (an OpenTelemetry package, pg,
 * our telemetry files, node:http), for JIT code named through the perf map; V8's and Node's
 * own C++ by what it does (GC, the optimising compilers, the rest of V8, Node and libuv, libc).
 */
export function groupOfFunction(name: string): string {
  // perf map names: `JS:*startSpan /…/node_modules/@opentelemetry/sdk-trace/dist/Tracer.cjs:42:11`
  const js = /^(?:JS|Eval|Script):[*~^+-]?(\S*) (.+?)(?::\d+){0,2}$/.exec(name);
  if (js !== null) {
    const url = js[2]!.startsWith('node:') ? js[2]! : `file://${js[2]!}`;
    return groupOf({ functionName: js[1]!, url });
  }
  if (name.startsWith('0x')) return 'JIT code (unnamed)';
  if (/Builtins?_|^Builtin:|^BytecodeHandler:/.test(name)) return 'V8 builtins and interpreter';
  if (/v8::internal::(compiler|maglev|turboshaft)|Compil|Parser|Scanner/.test(name)) return COMPILERS;
  if (/Scaveng|MinorMS|SemiSpace|NewSpace|Promot/.test(name)) return 'GC, young generation';
  if (/MarkCompact|Marking|Marker|Sweep|Evacuat|Compact|Worklist/.test(name)) return FULL_GC;
  if (/Heap|Remembered|SlotSet|Slot|Page|GC|Allocat|FreeList/.test(name)) return 'GC, other';
  if (/v8::|Runtime_/.test(name)) return 'V8 runtime';
  if (/node::|uv_|uv__|llhttp|http_parser/.test(name)) return 'node native, libuv';
  if (/libc|malloc|memcpy|memmove|memset|free|str[a-z]+\b/.test(name)) return 'libc';
  return 'other native';
}

/** Self instructions per function, JIT addresses replaced by their perf-map names. */
export function namedInstructions(dump: string, perfMap: string | undefined): Map<string, number> {
  const ranges = perfMap === undefined ? [] : readPerfMap(perfMap);
  const named = new Map<string, number>();
  for (const [fn, instructions] of selfInstructions(dump)) {
    const address = /^0x([0-9a-f]+)$/i.exec(fn);
    const name = (address !== null ? lookup(ranges, Number.parseInt(address[1]!, 16)) : undefined) ?? fn;
    named.set(name, (named.get(name) ?? 0) + instructions);
  }
  return named;
}
