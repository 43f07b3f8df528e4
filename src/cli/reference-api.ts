/**
 * The reference API (workspace apps/reference-api) is not part of the published package; the CLI loads
 * it at run time when it is installed beside it (this repository, or `npm i @gatehouse/reference-api`).
 * The specifier is a variable so that building the library does not depend on building the app.
 */
import type { VerifierOptions } from '../core/config/options.js'

export interface ReferenceApiOptions {
  /** Default 8000. */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** How tokens are verified (issuer, audience, keys…). */
  auth: VerifierOptions
  /** PostgreSQL server; otherwise the embedded database in `dataDir`. */
  databaseUrl?: string
  /** Folder of the embedded database. */
  dataDir?: string
  /** Pino log level. Default 'info'. */
  logLevel?: string
}

export interface RunningApi {
  url: string
  close(): Promise<void>
}

export async function loadReferenceApi(): Promise<(options: ReferenceApiOptions) => Promise<RunningApi>> {
  const specifier = '@gatehouse/reference-api'
  try {
    const module = (await import(specifier)) as {
      startReferenceApi: (options: ReferenceApiOptions) => Promise<RunningApi>
    }
    return module.startReferenceApi
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(specifier)) {
      throw new Error(
        'the reference API is not installed: run this from a clone of the Gatehouse repository after `npm ci`',
      )
    }
    throw error
  }
}
