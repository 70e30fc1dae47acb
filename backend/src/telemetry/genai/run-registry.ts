import { context, trace, type Context, type Span } from '@opentelemetry/api';

interface RunEntry {
  /** The span this run has, if it is one we trace. */
  span?: Span;
  /** The context its children start in: its span's, or (for untraced runs) its parent's. */
  ctx: Context;
  /** The agent run (graph span) it belongs to, to end what is left when that run ends. */
  root: Span | undefined;
}

/**
 * LangChain run id → span and context. It links LangChain's run tree to OpenTelemetry:
 * spans started by the callback handler find their parent by `parentRunId`, and code
 * running inside a run (a node, a tool) can make that run's span the active context.
 * One registry per process, so a handler registered twice finds the run already
 * traced and adds nothing.
 */
export class RunRegistry {
  private readonly runs = new Map<string, RunEntry>();

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** The context a new run under `parentRunId` starts in. */
  parentContext(parentRunId: string | undefined): Context {
    return (parentRunId !== undefined ? this.runs.get(parentRunId)?.ctx : undefined) ?? context.active();
  }

  rootOf(parentRunId: string | undefined): Span | undefined {
    const parent = parentRunId !== undefined ? this.runs.get(parentRunId) : undefined;
    return parent ? parent.root : trace.getSpan(context.active());
  }

  addSpan(runId: string, parentRunId: string | undefined, span: Span): void {
    const ctx = trace.setSpan(this.parentContext(parentRunId), span);
    this.runs.set(runId, { span, ctx, root: this.rootOf(parentRunId) });
  }

  /** A run we do not trace (an internal chain): its children attach to its parent's span. */
  addPassThrough(runId: string, parentRunId: string | undefined): void {
    this.runs.set(runId, { ctx: this.parentContext(parentRunId), root: this.rootOf(parentRunId) });
  }

  /** Removes the run; returns its span if it had one (still to be ended by the caller). */
  take(runId: string): Span | undefined {
    const entry = this.runs.get(runId);
    this.runs.delete(runId);
    return entry?.span;
  }

  spanOf(runId: string): Span | undefined {
    return this.runs.get(runId)?.span;
  }

  contextOf(runId: string | undefined): Context | undefined {
    return runId !== undefined ? this.runs.get(runId)?.ctx : undefined;
  }

  /** Removes every run of an agent run that is still open and returns their spans. */
  takeAllOf(root: Span): Span[] {
    const spans: Span[] = [];
    for (const [runId, entry] of this.runs) {
      if (entry.root !== root) continue;
      this.runs.delete(runId);
      if (entry.span) spans.push(entry.span);
    }
    return spans;
  }

  get size(): number {
    return this.runs.size;
  }
}

export const runRegistry = new RunRegistry();
