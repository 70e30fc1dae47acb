/**
 * Summarises a V8 `.cpuprofile` (node --cpu-prof) by self time per group of code
 * (an OpenTelemetry package, express, pg, our own folders, Node's internals, GC), counting
 * only the samples taken inside a time window: the load phase, not start-up.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber?: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which bucket a function's self time goes to. */
export function groupOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    return 'native builtins';
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) {
    const module = url.slice(5).split('/')[1] ?? url.slice(5);
    return `node:${url.includes('/http') || url.includes('_http') ? 'http' : module.replace(/^_/, '').split('_')[0]}`;
  }
  const dist = url.indexOf('/backend/dist/');
  if (dist !== -1) {
    const parts = url.slice(dist + '/backend/dist/'.length).split('/');
    // telemetry by file: that is where the question is
    if (parts[0] === 'telemetry') return `app:${parts.join('/').replace(/\.js$/, '')}`;
    return `app:${parts.length > 1 ? parts[0] : parts[0]!.replace(/\.js$/, '')}`;
  }
  return 'other';
}

/** A profile with its nodes by id and each node's parent, for walking from a sample up its stack. */
function readIndexed(file: string): {
  profile: CpuProfile;
  byId: Map<number, ProfileNode>;
  parentOf: Map<number, number>;
} {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  return { profile, byId, parentOf };
}

/**
 * Calls `visit` with each sample's node id and the interval it stands for (the time since the
 * previous sample, µs), for the samples whose timestamp lies in [from, to] (the profile's clock).
 */
function forEachSampleIn(
  profile: CpuProfile,
  from: number,
  to: number,
  visit: (nodeId: number, deltaUs: number) => void,
): void {
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    time += delta;
    if (time >= from && time <= to) visit(profile.samples[i]!, delta);
  }
}

/** Self time in µs per group, for samples whose timestamp lies in [from, to] (µs, the profile's clock). */
export function selfTimeByGroup(file: string, from: number, to: number): Map<string, number> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const groupOfNode = new Map<number, string>();
  for (const node of profile.nodes) groupOfNode.set(node.id, groupOf(node.callFrame));
  const totals = new Map<string, number>();
  forEachSampleIn(profile, from, to, (nodeId, delta) => {
    const group = groupOfNode.get(nodeId) ?? 'other';
    totals.set(group, (totals.get(group) ?? 0) + delta);
  });
  return totals;
}

/** A function's place: package or file group, name, file and line (1-based). */
function functionKey(frame: CallFrame): string {
  const file = frame.url.slice(frame.url.lastIndexOf('/') + 1);
  return `${frame.functionName || '(anonymous)'} ${file}:${(frame.lineNumber ?? 0) + 1}`;
}

export interface FunctionTime {
  group: string;
  fn: string;
  us: number;
}

/**
 * Self time in µs per function, in the window [from, to], for the functions of the groups
 * `keep` selects. V8 already counts its JavaScript builtins (sort, JSON.stringify, Map
 * lookups) as their caller's self time; a sample in a native binding (no url: hrtime,
 * performance.now, Buffer writes) is charged to the nearest JavaScript caller too, where the
 * group rows (selfTimeByGroup) count it as "native builtins".
 */
export function selfTimeByFunction(
  file: string,
  from: number,
  to: number,
  keep: (group: string) => boolean,
): FunctionTime[] {
  const { profile, byId, parentOf } = readIndexed(file);
  // the node a sample's time is charged to: itself, or for a builtin its nearest caller with a url
  const chargedTo = (id: number): ProfileNode | undefined => {
    let node = byId.get(id);
    const group = node === undefined ? undefined : groupOf(node.callFrame);
    if (group !== 'native builtins') return node;
    while (node !== undefined && node.callFrame.url === '') {
      const parent = parentOf.get(node.id);
      node = parent === undefined ? undefined : byId.get(parent);
      if (node?.callFrame.functionName === '(root)') return undefined;
    }
    return node;
  };
  const totals = new Map<string, FunctionTime>();
  forEachSampleIn(profile, from, to, (nodeId, delta) => {
    const node = chargedTo(nodeId);
    if (node === undefined) return;
    const group = groupOf(node.callFrame);
    if (!keep(group)) return;
    const fn = functionKey(node.callFrame);
    const key = `${group}\0${fn}`;
    const entry = totals.get(key) ?? { group, fn, us: 0 };
    entry.us += delta;
    totals.set(key, entry);
  });
  return [...totals.values()].sort((a, b) => b.us - a.us);
}

/**
 * Telemetry time by call path, in the window [from, to]: for each sample whose function
 * (a native binding charged to its caller) is in a group `keep` selects, the path from the
 * outermost of the consecutive such frames above it (where the telemetry code was entered:
 * an instrumentation's wrapper, a pool listener, a tracer call) down to it. Keys are the
 * frames joined by `\n`, values µs. Where the flat list says `hashAttributes`, this says
 * whose records it hashed.
 */
export function telemetryPaths(
  file: string,
  from: number,
  to: number,
  keep: (group: string) => boolean,
): Map<string, number> {
  const { profile, byId, parentOf } = readIndexed(file);
  const up = (node: ProfileNode) => {
    const parent = parentOf.get(node.id);
    return parent === undefined ? undefined : byId.get(parent);
  };
  const pathOf = new Map<number, string | null>();
  const pathFor = (id: number): string | null => {
    const known = pathOf.get(id);
    if (known !== undefined) return known;
    let node = byId.get(id);
    while (node !== undefined && groupOf(node.callFrame) === 'native builtins') node = up(node);
    const frames: string[] = [];
    for (let frame = node; frame !== undefined && keep(groupOf(frame.callFrame)); frame = up(frame))
      frames.unshift(`${groupOf(frame.callFrame)} · ${functionKey(frame.callFrame)}`);
    const path = frames.length === 0 ? null : frames.join('\n');
    pathOf.set(id, path);
    return path;
  };
  const totals = new Map<string, number>();
  forEachSampleIn(profile, from, to, (nodeId, delta) => {
    const path = pathFor(nodeId);
    if (path !== null) totals.set(path, (totals.get(path) ?? 0) + delta);
  });
  return totals;
}
