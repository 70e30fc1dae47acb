/**
 * npm run cycles — the SDK stays in its house, and no import cycle between files, and none between the folders of
 * backend/src (a folder is a room of the architecture: `telemetry` may import `errors`, but
 * then `errors` must not reach back into `telemetry` through any chain). Type-only imports
 * count neither way (`transform`: they vanish at build). dpdm parses; this adds the folder rule.
 *
 * The SDK rule: business code imports `@opentelemetry/api` and our wrappers only. The SDK, its
 * exporters and instrumentations (and bullmq-otel, BullMQ's tracing adapter) are imported under
 * telemetry/ and config/ alone, and `telemetry/sdk/` (which starts the SDK) is reached from
 * config/ alone, so loading the runtime API (`telemetry/index.ts`) never loads the SDK.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCircular, parseDependencyTree } from 'dpdm';

const ROOT = path.resolve(import.meta.dirname, '..');
const SRC = 'backend/src/';

/** `backend/src/telemetry/genai/x.ts` → `telemetry`; files at the top (server.ts) are their own room. */
function room(file: string): string {
  const rest = file.slice(SRC.length);
  const slash = rest.indexOf('/');
  return slash === -1 ? rest : rest.slice(0, slash);
}

/** Strongly connected components of more than one node (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

const tree = await parseDependencyTree(`${SRC}**/*.ts`, {
  cwd: ROOT,
  context: ROOT,
  transform: true,
  include: /\.ts$/,
  exclude: /node_modules|\.test\.ts$/,
});
const fileCycles = parseCircular(tree);

const rooms = new Map<string, Set<string>>();
const because = new Map<string, string>();
for (const [issuer, dependencies] of Object.entries(tree)) {
  if (!issuer.startsWith(SRC)) continue;
  for (const dependency of dependencies ?? []) {
    if (dependency.id === null || !dependency.id.startsWith(SRC)) continue;
    const [from, to] = [room(issuer), room(dependency.id)];
    if (from === to) continue;
    if (!rooms.has(from)) rooms.set(from, new Set());
    rooms.get(from)!.add(to);
    if (!because.has(`${from}→${to}`)) because.set(`${from}→${to}`, `${issuer} imports ${dependency.id}`);
  }
}
const roomCycles = cycles(rooms);

const SDK_PACKAGE = /^(@opentelemetry\/(sdk-|exporter-|instrumentation|resources|auto-instrumentations)|bullmq-otel$)/;
const SDK_HOUSE = /^backend\/src\/(telemetry|config)\//;
const sdkBreaches: string[] = [];
for (const [issuer, dependencies] of Object.entries(tree)) {
  if (!issuer.startsWith(SRC) || SDK_HOUSE.test(issuer)) continue;
  for (const dependency of dependencies ?? []) {
    if (SDK_PACKAGE.test(dependency.request)) sdkBreaches.push(`${issuer} imports ${dependency.request}`);
    else if (dependency.id?.startsWith(`${SRC}telemetry/sdk/`)) sdkBreaches.push(`${issuer} imports ${dependency.id}`);
  }
}
// dpdm drops type-only imports (`transform`); a type-only SDK import is still a dependency a reader sees
for (const issuer of Object.keys(tree)) {
  if (!issuer.startsWith(SRC) || SDK_HOUSE.test(issuer) || issuer.endsWith('.test.ts')) continue;
  for (const match of readFileSync(path.join(ROOT, issuer), 'utf8').matchAll(/from\s+'([^']+)'/g)) {
    const request = match[1]!;
    if (SDK_PACKAGE.test(request) && !sdkBreaches.includes(`${issuer} imports ${request}`))
      sdkBreaches.push(`${issuer} imports ${request}`);
  }
}
for (const breach of sdkBreaches) console.error(`SDK import outside telemetry/ and config/: ${breach}`);
for (const cycle of fileCycles) console.error(`file cycle: ${cycle.join(' → ')}`);
for (const cycle of roomCycles) {
  console.error(`folder cycle: ${cycle.join(', ')}`);
  for (const from of cycle) {
    for (const to of rooms.get(from) ?? [])
      if (cycle.includes(to)) console.error(`  ${from} → ${to}: ${because.get(`${from}→${to}`)}`);
  }
}
if (fileCycles.length + roomCycles.length + sdkBreaches.length > 0) process.exit(1);
console.log(
  `no SDK import outside telemetry/ and config/; no import cycles: ${Object.keys(tree).filter((file) => file.startsWith(SRC)).length} files, ${rooms.size} folders`,
);
