/**
 * The reference API on a real socket for the tests: a dev issuer (in memory), a database (PGlite in
 * memory, or a scratch database on the PostgreSQL server of DATABASE_URL), the app listening on
 * 127.0.0.1 port 0, and every log line captured.
 */
import type { FastifyInstance } from 'fastify'
import { type DevIssuer, startDevIssuer } from 'gatehouse/testing'
import { type Database, openDatabase } from '../../src/db/index.js'
import { buildApp } from '../../src/index.js'
import { createScratchDatabase, type ScratchDatabase } from './scratch-postgres.js'
import { STEP_MS } from './timeouts.js'

export const DATABASE_URL = process.env.DATABASE_URL || undefined
// With GATEHOUSE_REQUIRE_POSTGRES=1 (CI) a missing server fails the run instead of leaving a back-end out.
if (!DATABASE_URL && process.env.GATEHOUSE_REQUIRE_POSTGRES === '1') {
  throw new Error(
    'GATEHOUSE_REQUIRE_POSTGRES=1 but DATABASE_URL is not set: run `eval "$(.ci/postgres.sh)"` first',
  )
}

/** A database back-end the suites run against. */
export interface Backend {
  name: string
  /** Opens an empty database; `dispose` closes it and drops whatever the back-end created. */
  open(): Promise<{ db: Database; dispose(): Promise<void> }>
}

const pglite: Backend = {
  name: 'PGlite (embedded)',
  async open() {
    const db = await openDatabase({ dataDir: 'memory://' })
    return { db, dispose: () => db.close() }
  },
}

const postgres: Backend = {
  name: 'PostgreSQL server (DATABASE_URL)',
  async open() {
    const scratch: ScratchDatabase = await createScratchDatabase(DATABASE_URL!)
    const db = await openDatabase({ databaseUrl: scratch.url }).catch(async (error: unknown) => {
      await scratch.drop().catch(() => {})
      throw error
    })
    return {
      db,
      async dispose() {
        try {
          await db.close()
        } finally {
          await scratch.drop()
        }
      },
    }
  },
}

/** PGlite always; the PostgreSQL server too when DATABASE_URL is set. */
export const BACKENDS: Backend[] = DATABASE_URL ? [pglite, postgres] : [pglite]

/** One pino line, with the members the tests read. */
export interface LogRecord {
  level: number
  msg?: string
  reqId?: string
  req?: { url?: string }
  [member: string]: unknown
}

/** Captured log lines, parsed. */
export class LogCapture {
  readonly lines: string[] = []
  write(line: string): void {
    this.lines.push(line)
  }
  get text(): string {
    return this.lines.join('')
  }
  get records(): LogRecord[] {
    return this.lines.map((line) => JSON.parse(line) as LogRecord)
  }
}

export interface TestApi {
  url: string
  app: FastifyInstance
  issuer: DevIssuer
  db: Database
  logs: LogCapture
  /** `fetch(url + path)` with an optional bearer token; resolves with status, headers and parsed body. */
  call(path: string, init?: RequestInit & { token?: string }): Promise<Answer>
  close(): Promise<void>
}

export interface Answer {
  status: number
  headers: Headers
  /** Parsed JSON, or the raw text when the body is not JSON, or `undefined` when empty. */
  // biome-ignore lint/suspicious/noExplicitAny: JSON of every shape the API answers; the tests assert it with expect().
  body: any
}

/**
 * Start issuer, database and app (in a `beforeAll` with `timeoutFor('pgliteOpen')`: PGlite's initdb runs
 * even in memory). If a step fails, what the earlier steps started is closed before the error is thrown.
 */
export async function startTestApi(backend: Backend): Promise<TestApi> {
  const issuer = await startDevIssuer({ dataDir: null })
  let opened: Awaited<ReturnType<Backend['open']>> | undefined
  let app: FastifyInstance | undefined
  try {
    opened = await backend.open()
    const logs = new LogCapture()
    // A short cooldown so the rotation test sees the new key at once (the default is 5 s).
    const auth = {
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
      keySet: { cooldownDuration: 50 },
    }
    app = await buildApp({ db: opened.db, auth, logLevel: 'trace', logStream: logs })
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    return running(url, app, issuer, opened, logs)
  } catch (error) {
    await app?.close().catch(() => {})
    await opened?.dispose().catch(() => {})
    await issuer.close()
    throw error
  }
}

function running(
  url: string,
  app: FastifyInstance,
  issuer: DevIssuer,
  { db, dispose }: { db: Database; dispose(): Promise<void> },
  logs: LogCapture,
): TestApi {
  return {
    url,
    app,
    issuer,
    db,
    logs,
    call: (path, init = {}) => call(url, path, init),
    async close() {
      try {
        await app.close()
      } finally {
        try {
          await dispose()
        } finally {
          await issuer.close()
        }
      }
    },
  }
}

export async function call(
  base: string,
  path: string,
  init: RequestInit & { token?: string } = {},
): Promise<Answer> {
  const { token, ...rest } = init
  const headers = new Headers(rest.headers)
  if (token !== undefined) headers.set('authorization', `Bearer ${token}`)
  const response = await fetch(base + path, { ...rest, headers, signal: AbortSignal.timeout(STEP_MS.quick) })
  const text = await response.text()
  let body: unknown
  if (text !== '') {
    try {
      body = JSON.parse(text)
    } catch {
      body = text
    }
  }
  return { status: response.status, headers: response.headers, body }
}
