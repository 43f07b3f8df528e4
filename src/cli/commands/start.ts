/**
 * `gatehouse start` (what `npm start` runs): the demo when no issuer is configured, otherwise the
 * reference API alone, trusting the issuer from GATEHOUSE_* variables.
 */
import { resolve } from 'node:path'
import { hasEnvConfig, optionsFromEnv } from '../../core/config/env.js'
import { parse } from '../args.js'
import { type Command, EXIT, UsageError } from '../context.js'
import { loadReferenceApi } from '../reference-api.js'
import { apiSettings, runDemo } from './demo.js'

const help = `Usage: gatehouse start

With GATEHOUSE_ISSUER (or GATEHOUSE_DOMAIN) and GATEHOUSE_AUDIENCE set: runs the reference API alone,
trusting that issuer (keys from GATEHOUSE_JWKS_URL, else discovery, else {issuer}/.well-known/jwks.json).
Otherwise: the demo (gatehouse demo): a development issuer and the reference API.

Environment:
  PORT            port of the API on 127.0.0.1 (default 8000)
  DATA_DIR        folder of the embedded PostgreSQL (default .gatehouse/data)
  DATABASE_URL    use this PostgreSQL server instead of the embedded one
  LOG_LEVEL       fatal, error, warn, info (default), debug
  GATEHOUSE_*     see docs/configuration.md

Exit codes: 0 stopped by SIGINT/SIGTERM, 1 could not start, 2 invalid configuration.`

export const command: Command = {
  name: 'start',
  summary: 'run the demo, or the reference API alone when GATEHOUSE_ISSUER is set',
  help,
  async run(argv, ctx) {
    const { positionals } = parse(argv, {})
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
    if (!hasEnvConfig(ctx.env)) return runDemo(ctx)

    let auth: ReturnType<typeof optionsFromEnv>
    let settings: ReturnType<typeof apiSettings>
    try {
      auth = optionsFromEnv(ctx.env)
      settings = apiSettings(ctx)
    } catch (error) {
      ctx.err(`gatehouse: ${(error as Error).message}`)
      return EXIT.usage
    }
    const startReferenceApi = await loadReferenceApi()
    // Signal handlers go in before the API logs that it is ready.
    const stopped = ctx.waitForShutdown()
    let api: Awaited<ReturnType<typeof startReferenceApi>>
    try {
      api = await startReferenceApi({ ...settings, auth, dataDir: resolve(ctx.cwd, settings.dataDir) })
    } catch (error) {
      // An option the verifier or the database refused is configuration (exit 2), as in server.js.
      if (!(error instanceof TypeError)) throw error
      ctx.err(`gatehouse: ${error.message}`)
      return EXIT.usage
    }
    const signal = await stopped
    ctx.err(`received ${signal}, stopping`)
    await api.close()
    return EXIT.ok
  },
}
