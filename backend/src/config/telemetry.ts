/**
 * The tracing bootstrap of the API server. It is the first module the server loads, and
 * its whole job is an effect at import time: instrumentations patch `http`, `pg`,
 * `ioredis` and `undici` as those modules are required, so this must run before them.
 * The build is CommonJS, so "first import" really means first. (The worker has its own:
 * telemetry-worker.ts.)
 */
import { DEFAULT_SERVICE_NAME, bootstrapTelemetry } from './telemetry-options';

export const telemetry = bootstrapTelemetry(DEFAULT_SERVICE_NAME);
