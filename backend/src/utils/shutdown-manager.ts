import type { Logger } from './logger';
import { TIMED_OUT, withDeadline } from './deadline';

export interface ShutdownContext {
  /** Epoch ms by which the whole shutdown must be over. */
  readonly deadline: number;
  /** Why we are shutting down (a signal name, `startup-failed`, …). */
  readonly reason: string;
}

/** What a handler may give back: figures worth reporting (spans undelivered, say), or nothing. */
type Figures = Record<string, unknown> | undefined;
// biome-ignore lint/suspicious/noConfusingVoidType: handlers are plain `() => void` or `async () => {}` functions
type Nothing = void;

/** A handler may return figures worth reporting; they go into the last log line. */
export type ShutdownHandler = (ctx: ShutdownContext) => Promise<Figures | Nothing> | Figures | Nothing;

interface Registration {
  name: string;
  order: number;
  handler: ShutdownHandler;
}

export interface ShutdownManagerOptions {
  logger: Logger;
  /** Deadline for all handlers together; default 10 s. */
  timeoutMs?: number;
  /** How the process ends; replaced in tests. */
  exit?: (code: number) => void;
  /**
   * A signal within this long after the first is the same request (default 1 s): Ctrl-C
   * in a terminal reaches node and npm, and npm forwards it again ~2 ms later; a
   * supervisor signals the whole process group. Only a signal after it means "exit now".
   */
  repeatWindowMs?: number;
}

/** Well-known orders: lower runs first. */
export const SHUTDOWN_ORDER = {
  /** Stop accepting work, finish what is in flight. */
  server: 10,
  /** Release connections to dependencies. */
  connections: 20,
  /** Stop processes we own (the embedded database). */
  processes: 30,
  /** Last, so it flushes the spans of everything above. */
  telemetry: 100,
} as const;

const SIGNAL_EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs registered handlers once, in a defined order (by `order`, then registration),
 * on SIGTERM/SIGINT or on demand, all under one deadline. A failing handler is logged
 * and the rest still run. A signal repeated within `repeatWindowMs` is the same request;
 * a later one exits at once. Exit code 0 when every
 * handler succeeded, 1 otherwise or when the deadline passed.
 */
export class ShutdownManager {
  private readonly registrations: Registration[] = [];
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly exit: (code: number) => void;
  private readonly repeatWindowMs: number;
  private running: Promise<number> | undefined;
  private firstSignalAt: number | undefined;

  constructor({
    logger,
    timeoutMs = 10_000,
    exit = (code) => process.exit(code),
    repeatWindowMs = 1_000,
  }: ShutdownManagerOptions) {
    this.logger = logger;
    this.timeoutMs = timeoutMs;
    this.exit = exit;
    this.repeatWindowMs = repeatWindowMs;
  }

  get isShuttingDown(): boolean {
    return this.running !== undefined;
  }

  register(name: string, handler: ShutdownHandler, { order = 50 }: { order?: number } = {}): void {
    this.registrations.push({ name, order, handler });
  }

  /** Installs the signal handlers. */
  listen(signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
    for (const signal of signals) {
      process.on(signal, () => this.onSignal(signal));
    }
  }

  onSignal(signal: string): void {
    if (this.running !== undefined) {
      const sinceFirst = Date.now() - (this.firstSignalAt ?? 0);
      if (sinceFirst < this.repeatWindowMs) {
        this.logger.info(
          { signal, sinceFirstMs: sinceFirst },
          'signal repeated while shutting down: same request, shutdown goes on',
        );
        return;
      }
      this.logger.warn({ signal }, 'second signal received: exiting now');
      this.exit(SIGNAL_EXIT_CODES[signal] ?? 1);
      return;
    }
    this.firstSignalAt = Date.now();
    void this.shutdown(signal);
  }

  /** Runs the handlers (once; later calls share the first run) and then exits. */
  shutdown(reason: string, exitCode = 0): Promise<number> {
    this.running ??= this.run(reason, exitCode);
    return this.running;
  }

  private async run(reason: string, exitCode: number): Promise<number> {
    const started = Date.now();
    const ctx: ShutdownContext = { deadline: started + this.timeoutMs, reason };
    const ordered = this.registrations.map((registration, index) => ({ registration, index }));
    ordered.sort((a, b) => a.registration.order - b.registration.order || a.index - b.index);
    this.logger.info(
      { reason, timeoutMs: this.timeoutMs, handlers: ordered.map(({ registration }) => registration.name) },
      'shutting down',
    );

    let pending = '';
    const summary: Record<string, unknown> = {};
    const work = (async () => {
      let failed = 0;
      for (const { registration } of ordered) {
        pending = registration.name;
        const handlerStarted = Date.now();
        try {
          const figures = await registration.handler(ctx);
          if (figures) Object.assign(summary, figures);
          this.logger.debug(
            { handler: registration.name, durationMs: Date.now() - handlerStarted },
            'shutdown step done',
          );
        } catch (error) {
          failed += 1;
          this.logger.error({ err: error, handler: registration.name }, 'shutdown step failed; continuing');
        }
      }
      return failed;
    })();

    const outcome = await withDeadline(work, ctx.deadline);
    let code: number;
    if (outcome === TIMED_OUT) {
      this.logger.error(
        { reason, timeoutMs: this.timeoutMs, pending, ...summary },
        'shutdown deadline passed; exiting anyway',
      );
      code = 1;
    } else {
      code = outcome > 0 ? 1 : exitCode;
      this.logger.info(
        { reason, durationMs: Date.now() - started, failedSteps: outcome, exitCode: code, ...summary },
        'shutdown complete',
      );
    }
    this.exit(code);
    return code;
  }
}
