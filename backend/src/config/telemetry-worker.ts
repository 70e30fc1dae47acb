/**
 * The tracing bootstrap of the plan worker (`npm run worker`): the first module the
 * worker loads, for the same reason as config/telemetry.ts. Its default service name
 * is its own, so a trace shows which process did what.
 */
import { bootstrapTelemetry } from './telemetry-options';

export const WORKER_SERVICE_NAME = 'renovation-agent-worker';
export const telemetry = bootstrapTelemetry(WORKER_SERVICE_NAME);
