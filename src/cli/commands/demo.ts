/**
 * `gatehouse demo`: a development issuer and the reference API on this machine, and the curl commands
 * that show every sample endpoint working. Nothing leaves 127.0.0.1.
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type DevClient, loadClientsFile, newSecret } from '../../dev-issuer/clients.js'
import { type DevIssuer, startDevIssuer } from '../../dev-issuer/index.js'
import { integer, parse } from '../args.js'
import { type CliContext, type Command, EXIT, UsageError } from '../context.js'
import { startOnFreePort } from '../ports.js'
import { loadReferenceApi } from '../reference-api.js'
import { DEFAULT_DATA_DIR as ISSUER_DATA_DIR, DEFAULT_PORT as ISSUER_PORT } from './issuer.js'

const help = `Usage: gatehouse demo [--port N] [--issuer-port N]

Starts a development issuer (http://127.0.0.1:${ISSUER_PORT}) and the reference API (http://127.0.0.1:$PORT,
default 8000), then prints curl commands to paste: Bearer tokens, one DPoP-bound token (RFC 9449: the
API accepts both) and one opaque token, which the API introspects (RFC 7662). When a port is taken, that
server listens on a free port instead, and the demo says which.

Options:
  --port N          port of the reference API (default: $PORT, else 8000)
  --issuer-port N   port of the development issuer (default ${ISSUER_PORT})

Environment: PORT, DATA_DIR, DATABASE_URL, LOG_LEVEL (default warn in the demo), as for gatehouse start.
Exit codes: 0 stopped by SIGINT/SIGTERM, 1 could not start, 2 invalid configuration.`

/** PORT, DATA_DIR, DATABASE_URL and LOG_LEVEL, checked; throws TypeError naming the variable. */
export function apiSettings(ctx: CliContext, defaultLogLevel = 'info') {
  const rawPort = ctx.env.PORT?.trim() || '8000'
  if (!/^\d+$/.test(rawPort) || Number(rawPort) > 65535) {
    throw new TypeError(`PORT: expected a port number from 0 to 65535, got ${JSON.stringify(rawPort)}`)
  }
  const logLevel = ctx.env.LOG_LEVEL?.trim() || defaultLogLevel
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new TypeError(
      `LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got ${JSON.stringify(logLevel)}`,
    )
  }
  const databaseUrl = ctx.env.DATABASE_URL?.trim() || undefined
  return {
    port: Number(rawPort),
    host: '127.0.0.1',
    dataDir: ctx.env.DATA_DIR?.trim() || '.gatehouse/data',
    databaseUrl,
    logLevel,
  }
}

/** Ports the demo asks for; a taken one is replaced by a free one. */
export interface DemoPorts {
  /** Port of the reference API. Default: PORT, else 8000. */
  port?: number
  /** Port of the development issuer. Default 9000. */
  issuerPort?: number
}

/** The client whose tokens are opaque, for the introspection example. */
const OPAQUE_CLIENT = 'opaque-client'
/** The reference API's own client at the issuer: the credentials it introspects with. */
const API_CLIENT = 'reference-api'

/**
 * The issuer's clients: those of its clients.json (written with the defaults on first start), and the two
 * the opaque-token example needs, unless the file has clients of those ids. Theirs are made for this run
 * only (the file is not changed), so their secrets are new at each start.
 */
async function demoClients(dataDir: string): Promise<DevClient[]> {
  const { clients } = await loadClientsFile(dataDir)
  const added: DevClient[] = [
    {
      clientId: OPAQUE_CLIENT,
      clientSecret: newSecret(),
      description: 'Gets opaque tokens, which the reference API introspects.',
      scopes: ['read:messages'],
      tokenFormat: 'opaque',
    },
    {
      clientId: API_CLIENT,
      clientSecret: newSecret(),
      description: 'The reference API’s own credentials, for the introspection endpoint.',
      scopes: [],
    },
  ]
  return [...clients, ...added.filter((client) => !clients.some((c) => c.clientId === client.clientId))]
}

/** `Port 9000 is taken: the issuer listens on port 38411 instead.`, when it fell back. */
function portNote(what: string, wanted: number, url: string, fellBack: boolean): string[] {
  return fellBack
    ? [`Port ${wanted} is taken: the ${what} listens on port ${new URL(url).port} instead.`]
    : []
}

/**
 * This package's CLI, as a shell runs it from anywhere: `dist/cli/main.js` beside this file's folder, the
 * same path from `src/cli/commands` and from `dist/cli/commands`. Not `npx gatehouse`, which outside the
 * repository would fetch a package of that name from the registry.
 */
const CLI_MAIN = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url))

/** `value` as one shell word: as is when it has nothing a shell acts on, else single-quoted. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

/** The commands the demo prints; exported for the test that runs them. */
export function demoCommands(issuer: DevIssuer, api: string): string[] {
  const client = issuer.clients.find((c) => c.clientId === 'demo-client') ?? issuer.clients[0]
  const reader = issuer.clients.find((c) => c.clientId === 'reader-client')
  const opaque = issuer.clients.find((c) => c.clientId === OPAQUE_CLIENT)
  const request = (c: { clientId: string; clientSecret?: string }) =>
    JSON.stringify({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      audience: issuer.audience,
      grant_type: 'client_credentials',
    })
  const fetchToken = (name: string, c: { clientId: string; clientSecret?: string }) =>
    `${name}=$(curl -s -X POST ${issuer.url}/oauth2/m2m/token -H 'content-type: application/json' -d '${request(c)}' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`
  // -w '\n' ends each JSON answer with a newline, so pasted commands do not run their output together.
  const lines = [
    `curl -s -w '\\n' ${api}/public`,
    fetchToken('TOKEN', client!),
    `curl -s -w '\\n' -H "Authorization: Bearer $TOKEN" ${api}/protected`,
    `curl -s -w '\\n' -H "Authorization: Bearer $TOKEN" ${api}/api/private-scoped`,
    `curl -s -w '\\n' -H "Authorization: Bearer $TOKEN" ${api}/api/users/me`,
    `curl -s -w '\\n' -X POST -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"text":"hello from the demo"}' ${api}/api/messages`,
    `curl -s -w '\\n' -H "Authorization: Bearer $TOKEN" ${api}/api/messages`,
    `curl -s -i -w '\\n' ${api}/protected`,
    // DPoP (RFC 9449): a token bound to the CLI's key (a proof with the token request), then a fresh proof
    // with the token's hash for the API call. The key is made on first use in the shell's
    // .gatehouse/issuer: beside the issuer's data when pasted where the demo runs.
    `gatehouse() { node ${shellWord(CLI_MAIN)} "$@"; }`,
    `DPOP_TOKEN=$(curl -s -X POST ${issuer.url}/oauth2/m2m/token -H 'content-type: application/json' -H "DPoP: $(gatehouse proof --method POST --url ${issuer.url}/oauth2/m2m/token)" -d '${request(client!)}' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
    `curl -s -w '\\n' -H "Authorization: DPoP $DPOP_TOKEN" -H "DPoP: $(gatehouse proof --url ${api}/protected --token "$DPOP_TOKEN")" ${api}/protected`,
  ]
  if (opaque?.clientSecret !== undefined) {
    // An opaque token says nothing by itself: the API asks the issuer's introspection endpoint about it.
    lines.push(fetchToken('OPAQUE_TOKEN', opaque))
    lines.push(`curl -s -w '\\n' -H "Authorization: Bearer $OPAQUE_TOKEN" ${api}/protected`)
  }
  if (reader) {
    lines.push(fetchToken('READER', reader))
    lines.push(
      `curl -s -i -w '\\n' -X POST -H "Authorization: Bearer $READER" -H 'content-type: application/json' -d '{"text":"denied"}' ${api}/api/messages`,
    )
  }
  return lines
}

export async function runDemo(ctx: CliContext, ports: DemoPorts = {}): Promise<number> {
  let settings: ReturnType<typeof apiSettings>
  try {
    settings = apiSettings(ctx, 'warn')
  } catch (error) {
    ctx.err(`gatehouse: ${(error as Error).message}`)
    return EXIT.usage
  }
  const apiPort = ports.port ?? settings.port
  const issuerPort = ports.issuerPort ?? ISSUER_PORT
  const startReferenceApi = await loadReferenceApi()
  const dataDir = resolve(ctx.cwd, ISSUER_DATA_DIR)
  const clients = await demoClients(dataDir)
  const { value: issuer, fellBack: issuerMoved } = await startOnFreePort(issuerPort, settings.host, (port) =>
    startDevIssuer({ port, host: settings.host, dataDir, clients }),
  )
  const apiClient = issuer.clients.find((c) => c.clientId === API_CLIENT)
  let api: Awaited<ReturnType<typeof startReferenceApi>>
  let apiMoved: boolean
  try {
    ;({ value: api, fellBack: apiMoved } = await startOnFreePort(apiPort, settings.host, (port) =>
      startReferenceApi({
        ...settings,
        port,
        dataDir: resolve(ctx.cwd, settings.dataDir),
        auth: {
          issuer: issuer.issuer,
          audience: issuer.audience,
          jwksUri: issuer.jwksUri,
          // DPoP allowed, so the printed DPoP example works beside the Bearer ones (RFC 9449 §7).
          dpop: 'allowed',
          // Opaque tokens introspected with the API's own credentials; JWTs still verified with the keys.
          ...(apiClient?.clientSecret !== undefined && {
            introspection: {
              url: issuer.introspectionEndpoint,
              clientId: apiClient.clientId,
              clientSecret: apiClient.clientSecret,
            },
          }),
        },
      }),
    ))
  } catch (error) {
    await issuer.close()
    throw error
  }
  ctx.out('Gatehouse demo: a development issuer and the reference API, on 127.0.0.1 only.')
  ctx.out(`  issuer         ${issuer.issuer}   (keys and clients in ${issuer.dataDir})`)
  ctx.out(`  reference API  ${api.url}   (OpenAPI at ${api.url}/openapi.json)`)
  const notes = [
    ...portNote('issuer', issuerPort, issuer.url, issuerMoved),
    ...portNote('reference API', apiPort, api.url, apiMoved),
  ]
  if (notes.length > 0) ctx.out('')
  for (const note of notes) ctx.out(note)
  ctx.out('')
  ctx.out("Paste these into a shell (the second gets a token with AuthAction's client-credentials request):")
  ctx.out('')
  for (const line of demoCommands(issuer, api.url)) ctx.out(`  ${line}`)
  ctx.out('')
  // Signal handlers go in before the line that says we are ready, or an early Ctrl+C kills us uncleanly.
  const stopped = ctx.waitForShutdown()
  ctx.out('Press Ctrl+C to stop.')
  const signal = await stopped
  ctx.out(`Received ${signal}, stopping.`)
  await api.close()
  await issuer.close()
  return EXIT.ok
}

export const command: Command = {
  name: 'demo',
  summary: 'run a development issuer and the reference API, and print curl commands to try',
  help,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, {
      port: { type: 'string' },
      'issuer-port': { type: 'string' },
    })
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
    return runDemo(ctx, {
      ...(values.port !== undefined && { port: integer('port', values.port, 8000, 0, 65535) }),
      issuerPort: integer('issuer-port', values['issuer-port'], ISSUER_PORT, 0, 65535),
    })
  },
}
