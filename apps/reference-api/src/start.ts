/**
 * `startReferenceApi`: open the database, build the app, listen, and log one line when ready. This is the
 * function the `gatehouse start` and `gatehouse demo` commands load (src/cli/reference-api.ts at the
 * repository root holds the contract); `server.js` calls it too.
 */
import { resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { EnvOptions } from 'gatehouse'
import { buildApp } from './app.js'
import { type Database, openDatabase } from './db/index.js'
import { LOG_LEVELS, type LogLevel, type LogStream } from './logging.js'

/** Default port of the API. */
export const DEFAULT_PORT = 8000
/** Default address: loopback only; a deployment that wants more says so. */
export const DEFAULT_HOST = '127.0.0.1'
/** Default folder of the embedded database, relative to the working directory (as `gatehouse start`). */
export const DEFAULT_DATA_DIR = '.gatehouse/data'

/** Options of {@link startReferenceApi}; the CLI's `ReferenceApiOptions`, plus `logStream` for tests. */
export interface ReferenceApiOptions {
  /** TCP port, 0 to 65535 (0: a free one). Default 8000. */
  port?: number
  /** Address to listen on. Default 127.0.0.1. */
  host?: string
  /**
   * How tokens are verified and presented (issuer, audience, keys, DPoP proofs, the public URL…): the
   * gate options gatehouse's `optionsFromEnv` returns.
   */
  auth: EnvOptions
  /** A PostgreSQL server URL; when set and not empty, `dataDir` is ignored. */
  databaseUrl?: string
  /** Folder of the embedded database (PGlite), created if missing. Default `.gatehouse/data`. */
  dataDir?: string
  /** Pino level: fatal, error, warn, info, debug, trace, silent. Default `'info'`. */
  logLevel?: string
  /** Where log lines go. Default: standard output. */
  logStream?: LogStream
}

/** A running API. */
export interface RunningApi {
  /** `http://127.0.0.1:{port}`. */
  url: string
  /** The database the API uses (its `kind` and `location` are in the ready line). */
  db: Database
  /**
   * Stop: no new connections, requests in flight finish (new requests on kept-alive connections get 503),
   * then the gate and the database close. Idempotent: every call returns the same promise.
   */
  close(): Promise<void>
}

/**
 * Start the reference API.
 *
 * @example
 * const api = await startReferenceApi({ port: 0, auth: { issuer, audience }, dataDir: '.data' })
 * // ... later, on SIGTERM:
 * await api.close()
 * @throws TypeError naming the option when an option is invalid; Error when the database cannot be opened
 *   (naming DATABASE_URL or the folder, never a password) or the port cannot be bound.
 */
export async function startReferenceApi(options: ReferenceApiOptions): Promise<RunningApi> {
  const { port, host, logLevel } = checkOptions(options)
  let app: FastifyInstance | undefined
  const db = await openDatabase({
    databaseUrl: options.databaseUrl,
    dataDir: resolve(options.dataDir ?? DEFAULT_DATA_DIR),
    // Idle connections that break are replaced on the next query; say so rather than crash.
    onPoolError: (err) => app?.log.warn({ err }, 'an idle database connection failed'),
  })
  let url: string
  try {
    app = await buildApp({ db, auth: options.auth, logLevel, logStream: options.logStream })
    app.addHook('onClose', async () => db.close())
    // A wrong issuer, metadata document or key set stops the start, rather than answering every request 503.
    await app.gatehouse.warmUp()
    // Fastify logs its listen line through this resolver: it is the one "ready" line of the start contract.
    url = await app.listen({
      port,
      host,
      listenTextResolver: (address) =>
        `reference API ready on ${address} (database: ${db.kind} ${db.location})`,
    })
  } catch (error) {
    await app?.close().catch(() => {})
    await db.close()
    throw error
  }
  const running = app
  let closing: Promise<void> | undefined
  return {
    url,
    db,
    close() {
      closing ??= running.close()
      return closing
    },
  }
}

function checkOptions(options: ReferenceApiOptions): { port: number; host: string; logLevel: LogLevel } {
  if (typeof options !== 'object' || options === null) throw new TypeError('options: expected an object')
  const { port = DEFAULT_PORT, host = DEFAULT_HOST, logLevel = 'info' } = options
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`port: expected an integer from 0 to 65535, got ${JSON.stringify(port)}`)
  }
  if (typeof host !== 'string' || host === '')
    throw new TypeError('host: expected an address such as 127.0.0.1')
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new TypeError(`logLevel: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`)
  }
  if (typeof options.auth !== 'object' || options.auth === null) {
    throw new TypeError('auth: expected verifier options ({ issuer, audience, ... })')
  }
  return { port, host, logLevel: logLevel as LogLevel }
}
