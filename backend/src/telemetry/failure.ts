import { diag } from '@opentelemetry/api';

const reported = new Set<string>();

/**
 * A failure inside our tracing code: the caller carries on, and the failure is logged once
 * per place (through the SDK diagnostics, which reach our log as `component: "otel"`), so a
 * broken hook shows up without flooding the log on every request.
 */
export function tracingFailed(where: string, error: unknown): void {
  try {
    if (reported.has(where)) return;
    reported.add(where);
    diag.warn(
      `tracing failed in ${where}; the operation goes on untraced there (reported once)`,
      error instanceof Error ? error : new Error(String(error)),
    );
  } catch {
    // the last resort: nothing left to tell
  }
}
