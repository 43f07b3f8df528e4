/**
 * The server's settings from environment variables, for `server.js`. The
 * `gatehouse start` command reads the same variables with the same rules (src/cli/commands/demo.ts).
 *
 * | variable | default | |
 * |---|---|---|
 * | PORT | 8000 | 0 to 65535 |
 * | HOST | 127.0.0.1 | the address to listen on; loopback unless you mean it |
 * | DATA_DIR | .gatehouse/data | folder of the embedded database, relative to the working directory |
 * | DATABASE_URL | unset | a PostgreSQL server instead of the embedded database |
 * | LOG_LEVEL | info | fatal, error, warn, info, debug, trace, silent |
 *
 * Token verification, DPoP included (GATEHOUSE_DPOP, GATEHOUSE_REDIS_URL, GATEHOUSE_DPOP_NONCE_SECRET,
 * GATEHOUSE_PUBLIC_URL), comes from GATEHOUSE_* (gatehouse's `optionsFromEnv`), passed whole to the gate.
 */
import { parseDatabaseUrl } from './db/index.js'
import { LOG_LEVELS, type LogLevel } from './logging.js'
import { DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT } from './start.js'

type Env = Record<string, string | undefined>

/** The non-GATEHOUSE settings. Throws a TypeError naming the variable when one is invalid. */
export function settingsFromEnv(env: Env = process.env) {
  const get = (name: string) => env[name]?.trim() || undefined
  const rawPort = get('PORT') ?? String(DEFAULT_PORT)
  if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65535) {
    throw new TypeError(`PORT: expected a port number from 0 to 65535, got ${JSON.stringify(rawPort)}`)
  }
  const logLevel = get('LOG_LEVEL') ?? 'info'
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new TypeError(
      `LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`,
    )
  }
  const databaseUrl = get('DATABASE_URL')
  if (databaseUrl !== undefined) {
    try {
      parseDatabaseUrl(databaseUrl)
    } catch (error) {
      // Its message names DATABASE_URL and the expected form, never the value (which holds a password).
      throw new TypeError((error as Error).message)
    }
  }
  return {
    port: Number(rawPort),
    host: get('HOST') ?? DEFAULT_HOST,
    dataDir: get('DATA_DIR') ?? DEFAULT_DATA_DIR,
    databaseUrl,
    logLevel: logLevel as LogLevel,
  }
}
