import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../src/utils/logger';

/** A real logger writing to memory: each line parsed, as a log shipper would see it. */
export function captureLogs(level = 'debug'): { lines: Array<Record<string, unknown>>; logger: Logger } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, logger: createLogger({ level, destination }) };
}
