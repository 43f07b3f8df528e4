/**
 * Run the reference API alone: `node apps/reference-api/dist/server.js`, configured by the environment
 * (GATEHOUSE_* for the issuer and DPoP, PORT, HOST, DATA_DIR, DATABASE_URL, LOG_LEVEL; see config.ts).
 *
 * Exit codes (as the `gatehouse` CLI): 0 stopped by SIGTERM or SIGINT, 1 could not start or stop,
 * 2 invalid configuration. Errors are one line on standard error that names the variable to fix.
 */
import { optionsFromEnv } from 'gatehouse'
import { settingsFromEnv } from './config.js'
import { type RunningApi, startReferenceApi } from './start.js'

/** How long a shutdown may take before the process gives up on in-flight requests. */
const SHUTDOWN_TIMEOUT_MS = 10_000

function fail(code: number, message: string): never {
  process.stderr.write(`reference-api: ${message}\n`)
  process.exit(code)
}

let options: Parameters<typeof startReferenceApi>[0]
try {
  options = { ...settingsFromEnv(process.env), auth: optionsFromEnv(process.env) }
} catch (error) {
  fail(2, (error as Error).message)
}

// Installed before the start, so a signal that arrives right after the ready line still stops cleanly.
let api: RunningApi | undefined
let stopping = false
function stop(signal: NodeJS.Signals): void {
  if (stopping) fail(1, `received ${signal} again, stopping without waiting`)
  stopping = true
  process.stderr.write(`reference-api: received ${signal}, stopping\n`)
  if (api) shutdown(api)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

function shutdown(running: RunningApi): void {
  const timer = setTimeout(
    () => fail(1, `requests still running after ${SHUTDOWN_TIMEOUT_MS} ms`),
    SHUTDOWN_TIMEOUT_MS,
  )
  timer.unref()
  running.close().then(
    () => process.exit(0),
    (error: unknown) => fail(1, `stopping failed: ${(error as Error).message}`),
  )
}

try {
  api = await startReferenceApi(options)
} catch (error) {
  // A TypeError is an option the verifier refused (e.g. an http JWKS URL off loopback): configuration.
  fail(error instanceof TypeError ? 2 : 1, (error as Error).message)
}
if (stopping) shutdown(api)
