export { HttpServerInstrumentation } from './instrumentation';
export type { HttpServerInstrumentationConfig } from './types';
