import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createLogger } from '../../utils/logger';
import { parseViewerConfig, type ViewerConfig } from './config';
import { otlpReceiver } from './otlp-server';
import { createPersistence } from './persistence';
import { createTraceStore } from './store';
import { uiServer } from './ui-server';

/**
 * `npm run traces`: the local trace viewer. An OTLP/HTTP receiver (default :4318, where
 * every exporter sends by default) and a web UI (default :16686, Jaeger's port), both on
 * loopback, over a bounded in-memory store. A development tool: it refuses to start with
 * NODE_ENV=production, and the production build does not contain it.
 */

// The same folder from src/ and from the compiled dist-dev/ (both four levels below the root).
const ROOT = path.resolve(__dirname, '../../../..');
const UI_DIR = path.join(ROOT, 'backend/src/dev/trace-viewer/ui');

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Bound to loopback, the UI answers only loopback names; bound wider, any name reaching it. */
function loopbackNames(host: string): string[] | undefined {
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  return loopback ? ['localhost', '127.0.0.1', '[::1]', host.includes(':') ? `[${host}]` : host] : undefined;
}

const urlHost = (host: string) =>
  host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;

async function main(): Promise<void> {
  let config: ViewerConfig;
  try {
    config = parseViewerConfig(process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, base: { component: 'trace-viewer' } });
  const store = createTraceStore({ maxTraces: config.maxTraces, maxSpansPerTrace: config.maxSpansPerTrace });
  const persistence =
    config.file === undefined ? undefined : createPersistence({ file: path.resolve(config.file), store, logger });
  await persistence?.load();

  const otlp = createServer(otlpReceiver({ store, logger }));
  const ui = createServer(uiServer({ store, uiDir: UI_DIR, logger, allowedHosts: loopbackNames(config.host) }));
  let otlpPort: number;
  let uiPort: number;
  try {
    otlpPort = await listen(otlp, config.otlpPort, config.host);
    uiPort = await listen(ui, config.uiPort, config.host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    logger.fatal(
      { err: error },
      code === 'EADDRINUSE'
        ? 'a port is taken (another viewer, or Jaeger?): set TRACE_VIEWER_OTLP_PORT / TRACE_VIEWER_UI_PORT'
        : 'could not listen',
    );
    process.exit(1);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'trace viewer stopping');
    await Promise.all([close(otlp), close(ui)]);
    await persistence?.flush();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const host = urlHost(config.host);
  logger.info(
    {
      otlpPort,
      uiPort,
      host: config.host,
      maxTraces: config.maxTraces,
      file: config.file,
      ui: `http://${host}:${uiPort}`,
      otlp: `http://${host}:${otlpPort}/v1/traces`,
    },
    `trace viewer ready: open http://${host}:${uiPort} (OTLP/HTTP on http://${host}:${otlpPort})`,
  );
}

void main();
