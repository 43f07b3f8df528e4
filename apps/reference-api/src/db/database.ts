import { resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import pg from 'pg'
import { type DataDirLock, lockDataDir } from './data-dir-lock.js'
import { parseDatabaseUrl } from './database-url.js'
import { migratePglite, migratePostgres } from './migrate.js'
import { createPrivateFolder, makePrivate } from './private-folder.js'

/** The drizzle query builder shared by both drivers; the data functions use only this. */
export type Orm = PgDatabase<PgQueryResultHKT>

/** An open database: PGlite in a folder (or memory), or a PostgreSQL server. */
export interface Database {
  /** `'pglite'` (embedded, the default) or `'postgres'` (a server, when `DATABASE_URL` is set). */
  readonly kind: 'pglite' | 'postgres'
  /** Where the data lives, safe for logs: the PGlite folder, `memory://`, or `host:port/db` (no password). */
  readonly location: string
  /** The drizzle query builder. */
  readonly orm: Orm
  /**
   * Readiness check: runs `select 1`. Resolves when the database answers, rejects when it does not answer
   * within `timeoutMs` (default 2000 ms) or is closed.
   */
  ping(timeoutMs?: number): Promise<void>
  /** Closes the pool or the PGlite instance and releases the data folder's lock. Idempotent. */
  close(): Promise<void>
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /**
   * PostgreSQL URL `postgres://user:pass@host:5432/db` (usually `process.env.DATABASE_URL`). When set and
   * not empty, the server is used and `dataDir` is ignored. Default: unset (PGlite).
   */
  databaseUrl?: string | undefined
  /**
   * PGlite data folder, created if missing (usually `process.env.DATA_DIR`). `memory://` or unset: an
   * in-memory database that disappears on close (tests). Relative paths resolve against the working folder.
   * The folder is made private: 0700, every folder in it 0700 and every file 0600, on open and on close.
   */
  dataDir?: string | undefined
  /** PostgreSQL only: most connections in the pool. Default 10. */
  poolMax?: number
  /** PostgreSQL only: how long to wait for a connection, in ms. Default 5000. */
  connectTimeoutMs?: number
  /**
   * PostgreSQL only: called when an idle pooled connection fails (server restart, network cut). The pool
   * drops that connection and opens a new one on the next query. Default: ignore. Without a listener,
   * node-postgres would crash the process on such an error.
   */
  onPoolError?: (err: Error) => void
}

/**
 * Opens the reference API's database and applies the migrations in `apps/reference-api/drizzle` before
 * resolving, so the tables exist when the routes run.
 *
 * - `databaseUrl` set: a node-postgres `Pool` with drizzle-orm/node-postgres. Concurrent start-ups are
 *   serialised by an advisory lock while migrating.
 * - otherwise: PGlite (embedded PostgreSQL) in `dataDir`, with a lock file so two processes never open the
 *   same folder.
 *
 * @example
 * const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: process.env.DATA_DIR ?? '.data' })
 * await db.ping()
 * // ...
 * await db.close()
 *
 * Rejects with an `Error` naming DATABASE_URL and the expected form if the URL is malformed, and with an
 * error naming `host:port/db` (never the password) if the server cannot be reached or refuses the login.
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (options.databaseUrl !== undefined && options.databaseUrl !== '')
    return openPostgres(options.databaseUrl, options)
  return openPglite(options.dataDir)
}

async function openPostgres(databaseUrl: string, options: OpenDatabaseOptions): Promise<Database> {
  const { connectionString, display } = parseDatabaseUrl(databaseUrl)
  const config: pg.PoolConfig = {
    connectionString,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    application_name: 'gatehouse-reference-api',
  }
  const pool = new pg.Pool(config)
  pool.on('error', (err) => options.onPoolError?.(err))
  try {
    await migratePostgres(config)
  } catch (err) {
    await pool.end().catch(() => {})
    throw new Error(
      `could not open the PostgreSQL database ${display} from DATABASE_URL: ${messageOf(err)}`,
      {
        cause: err,
      },
    )
  }
  const orm: Orm = drizzleNodePg({ client: pool })
  let closed: Promise<void> | undefined
  return {
    kind: 'postgres',
    location: display,
    orm,
    ping: (timeoutMs) => ping(orm, timeoutMs),
    close() {
      closed ??= pool.end()
      return closed
    },
  }
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  const inMemory = dataDir === undefined || dataDir === '' || dataDir.startsWith('memory://')
  const location = inMemory ? 'memory://' : resolve(dataDir)
  let lock: DataDirLock | undefined
  if (!inMemory) {
    await createPrivateFolder(location)
    lock = await lockDataDir(location)
  }
  let client: PGlite | undefined
  try {
    client = await PGlite.create(inMemory ? undefined : location)
    const orm = drizzlePglite({ client })
    await migratePglite(orm)
    if (!inMemory) await makePrivate(location)
    const opened = client
    let closed: Promise<void> | undefined
    return {
      kind: 'pglite',
      location,
      orm,
      ping: (timeoutMs) => ping(orm, timeoutMs),
      close() {
        closed ??= (async () => {
          try {
            if (!opened.closed) await opened.close()
            // Files PostgreSQL wrote while running (e.g. pg_internal.init, 0644) are made private too.
            if (!inMemory) await makePrivate(location)
          } finally {
            await lock?.release()
          }
        })()
        return closed
      },
    }
  } catch (err) {
    await client?.close().catch(() => {})
    await lock?.release()
    throw new Error(`could not open the PGlite database in ${location}: ${messageOf(err)}`, { cause: err })
  }
}

async function ping(orm: Orm, timeoutMs = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the database did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    )
  })
  try {
    await Promise.race([orm.execute(sql`select 1`), timeout])
  } finally {
    clearTimeout(timer)
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
