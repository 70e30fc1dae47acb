import { trace, type Tracer } from '@opentelemetry/api';

/** Every tracer and meter (instrumentation scope) of this app is named `<TRACER_PREFIX>/<part>`. */
export const TRACER_PREFIX = 'renovation-agent-backend';

/** The tracer of one part of the app (`socket.io`, `genai`, `jobs`, …). */
export function tracerFor(part: string): Tracer {
  return trace.getTracer(`${TRACER_PREFIX}/${part}`);
}
