import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { SavedTraces, TraceStore } from './store';
import type { StoredSpan } from './stored-span';

export interface Persistence {
  /** Loads the file into the store, if there is one; a file that does not parse is set aside. */
  load(): Promise<void>;
  /** Writes what is pending now (at shutdown). */
  flush(): Promise<void>;
}

const isSpan = (value: unknown): value is StoredSpan => {
  const span = value as Partial<StoredSpan> | null;
  return (
    typeof span === 'object' &&
    span !== null &&
    typeof span.traceId === 'string' &&
    typeof span.spanId === 'string' &&
    typeof span.name === 'string' &&
    typeof span.startTimeUnixNano === 'string' &&
    /^\d+$/.test(span.startTimeUnixNano) &&
    typeof span.endTimeUnixNano === 'string' &&
    /^\d+$/.test(span.endTimeUnixNano) &&
    typeof span.attributes === 'object' &&
    typeof span.resource === 'object' &&
    Array.isArray(span.events) &&
    Array.isArray(span.links) &&
    typeof span.status === 'object' &&
    typeof span.scope === 'object'
  );
};

function parseSaved(text: string): SavedTraces {
  const saved = JSON.parse(text) as Partial<SavedTraces>;
  if (saved?.version !== 1 || !Array.isArray(saved.traces)) throw new Error('not a trace viewer file (version 1)');
  return {
    version: 1,
    traces: saved.traces
      .filter((trace) => typeof trace?.traceId === 'string' && Array.isArray(trace.spans))
      .map((trace) => ({
        traceId: trace.traceId,
        droppedSpans: Number(trace.droppedSpans) || 0,
        spans: trace.spans.filter(isSpan),
      })),
  };
}

/**
 * Keeps the store in a JSON file so a restart keeps the traces: written a moment after
 * a change (not per export), through a temporary file and a rename so a crash mid-write
 * never leaves half a file.
 */
export function createPersistence({
  file,
  store,
  logger,
  delayMs = 1_000,
}: {
  file: string;
  store: TraceStore;
  logger: Logger;
  delayMs?: number;
}): Persistence {
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const write = (): Promise<void> => {
    timer = undefined;
    const json = JSON.stringify(store.save());
    writing = writing.then(async () => {
      try {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(`${file}.tmp`, json);
        await rename(`${file}.tmp`, file);
      } catch (error) {
        logger.warn({ err: error, file }, 'could not save the traces');
      }
    });
    return writing;
  };

  store.onChange(() => {
    timer ??= setTimeout(() => void write(), delayMs);
  });

  return {
    async load() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      try {
        const saved = parseSaved(text);
        store.restore(saved);
        logger.info({ file, traces: store.stats().traces }, 'traces loaded');
      } catch (error) {
        const aside = `${file}.unreadable`;
        await rename(file, aside);
        logger.warn({ err: error, file, movedTo: aside }, 'the traces file could not be read; starting empty');
      }
    },
    async flush() {
      if (timer !== undefined) clearTimeout(timer);
      await write();
    },
  };
}
