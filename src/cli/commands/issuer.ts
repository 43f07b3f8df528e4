/**
 * `gatehouse issuer`: run the development authorization server in the foreground, and
 * `gatehouse issuer rotate`: rotate the signing keys kept in its data folder.
 */
import { resolve } from 'node:path'
import {
  DEFAULT_AUDIENCE,
  DEFAULT_TOKEN_LIFETIME,
  DEV_ALGORITHMS,
  type DevAlgorithm,
  PATHS,
  startDevIssuer,
  TOKEN_FORMATS,
} from '../../dev-issuer/index.js'
import { KeyRing } from '../../dev-issuer/keys.js'
import { choice, duration, integer, parse } from '../args.js'
import { type CliContext, type Command, EXIT, UsageError } from '../context.js'
import { bold } from '../format.js'

/** Default data folder, relative to the working directory (ignored by git: see .gitignore). */
export const DEFAULT_DATA_DIR = '.gatehouse/issuer'
/** Default port of `gatehouse issuer`; `gatehouse token` assumes it when no issuer ran yet. */
export const DEFAULT_PORT = 9000

const help = `Usage: gatehouse issuer [options]
       gatehouse issuer rotate [--data-dir DIR] [--alg ALG] [--grace DURATION]

Run a local OAuth 2.0 authorization server for development: discovery, JWKS, a client-credentials
token endpoint issuing RFC 9068 access tokens (or opaque ones), introspection (RFC 7662) and revocation
(RFC 7009). It binds to loopback only: it is a development tool, and anyone holding the client secrets
gets tokens.

Options:
  --port N               port to listen on (default ${DEFAULT_PORT}; 0 = any free port)
  --host HOST            address to bind (default 127.0.0.1; loopback only unless --allow-non-loopback)
  --allow-non-loopback   bind to another address anyway (never on a shared network)
  --data-dir DIR         keys.json and clients.json live here (default ${DEFAULT_DATA_DIR})
  --alg ALG              signing algorithm: ${DEV_ALGORITHMS.join(', ')} (default RS256)
  --audience AUD         audience of tokens whose request names none (default ${DEFAULT_AUDIENCE})
  --issuer URL           the "iss" value (default http://HOST:PORT, no trailing slash)
  --token-lifetime DUR   lifetime of issued tokens (default 1h)
  --format FORMAT        tokens from the token endpoint: jwt (signed, verified with the JWKS) or opaque
                         (random references, kept in memory and introspected at /oauth2/introspect);
                         default jwt. A client's "tokenFormat" in clients.json overrides it
  --rotation-grace DUR   how long a replaced key stays published (default: the token lifetime)

rotate: make a new signing key in DIR. The old key stays published for --grace (default 1h); a running
issuer using DIR picks the change up on its next request.

Stop with Ctrl+C. Exit codes: 0 stopped cleanly, 1 could not start, 2 usage error.`

export const command: Command = {
  name: 'issuer',
  summary: 'run the local development authorization server (issuer rotate: rotate its keys)',
  help,
  run(argv, ctx) {
    return argv[0] === 'rotate' ? rotate(argv.slice(1), ctx) : serve(argv, ctx)
  },
}

async function serve(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    'allow-non-loopback': { type: 'boolean' },
    'data-dir': { type: 'string' },
    alg: { type: 'string' },
    audience: { type: 'string' },
    issuer: { type: 'string' },
    'token-lifetime': { type: 'string' },
    'rotation-grace': { type: 'string' },
    format: { type: 'string' },
  })
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument "${positionals[0]}" (did you mean "rotate"?)`)
  const dataDir = resolve(ctx.cwd, values['data-dir'] ?? DEFAULT_DATA_DIR)
  const tokenLifetime = duration('token-lifetime', values['token-lifetime'], DEFAULT_TOKEN_LIFETIME)
  let issuer: Awaited<ReturnType<typeof startDevIssuer>>
  try {
    issuer = await startDevIssuer({
      port: integer('port', values.port, DEFAULT_PORT, 0, 65535),
      host: values.host ?? '127.0.0.1',
      allowNonLoopback: values['allow-non-loopback'] ?? false,
      dataDir,
      alg: choice('alg', values.alg, DEV_ALGORITHMS, 'RS256'),
      audience: values.audience ?? DEFAULT_AUDIENCE,
      tokenLifetime,
      rotationGrace: duration('rotation-grace', values['rotation-grace'], tokenLifetime),
      tokenFormat: choice('format', values.format, TOKEN_FORMATS, 'jwt'),
      ...(values.issuer !== undefined && { issuer: values.issuer }),
    })
  } catch (error) {
    // Option errors name the option in code terms; the flag is what the user typed.
    if (error instanceof TypeError) {
      throw new UsageError(
        error.message.replace(
          /^(\w+):/,
          (_, name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}:`,
        ),
      )
    }
    throw error
  }
  const c = ctx.color
  ctx.out(bold('Gatehouse dev issuer: for development only, never for production.', c))
  ctx.out(`  issuer          ${issuer.issuer}`)
  ctx.out(`  discovery       ${issuer.url}${PATHS.openidConfiguration}`)
  ctx.out(`  jwks            ${issuer.jwksUri}`)
  ctx.out(`  token endpoint  ${issuer.tokenEndpoint} (form), ${issuer.url}${PATHS.m2mToken} (JSON)`)
  ctx.out(`  introspection   ${issuer.introspectionEndpoint}`)
  ctx.out(`  revocation      ${issuer.revocationEndpoint}`)
  ctx.out(`  audience        ${issuer.audience}`)
  ctx.out(`  token format    ${values.format ?? 'jwt'}`)
  ctx.out(`  algorithm       ${issuer.alg}`)
  ctx.out(`  clients         ${issuer.clients.map((client) => client.clientId).join(', ')}`)
  ctx.out(`  credentials     ${issuer.clientsFile ?? '(in memory)'}`)
  ctx.out(
    `  keys            ${issuer.dataDir === null ? '(in memory)' : resolve(issuer.dataDir, 'keys.json')}`,
  )
  ctx.out('')
  ctx.out(
    `Mint a token without a request: gatehouse token --data-dir ${values['data-dir'] ?? DEFAULT_DATA_DIR}`,
  )
  // `gatehouse token` signs JWTs offline; an opaque token exists only in this process's memory.
  if (values.format === 'opaque') {
    ctx.out(
      `Get an opaque token: curl -s -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials ${issuer.tokenEndpoint}`,
    )
  }
  // Signal handlers go in before the line that says we are ready, or an early Ctrl+C kills us uncleanly.
  const stopped = ctx.waitForShutdown()
  ctx.out('Press Ctrl+C to stop.')
  const signal = await stopped
  ctx.out(`Received ${signal}, stopping.`)
  await issuer.close()
  return EXIT.ok
}

async function rotate(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(argv, {
    'data-dir': { type: 'string' },
    alg: { type: 'string' },
    grace: { type: 'string' },
  })
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
  const dataDir = resolve(ctx.cwd, values['data-dir'] ?? DEFAULT_DATA_DIR)
  const grace = duration('grace', values.grace, DEFAULT_TOKEN_LIFETIME)
  if (grace < 0) throw new UsageError('--grace must not be negative')
  const keys = new KeyRing(dataDir)
  let algs: DevAlgorithm[]
  if (values.alg !== undefined) algs = [choice('alg', values.alg, DEV_ALGORITHMS, 'RS256')]
  else {
    algs = await keys.currentAlgorithms()
    if (algs.length === 0) algs = ['RS256']
  }
  for (const alg of algs) {
    const { kid, retired } = await keys.rotate(alg, grace)
    const until = new Date(Date.now() + grace * 1000).toISOString()
    ctx.out(`${alg}: new signing key ${kid}`)
    if (retired !== undefined) ctx.out(`  previous key ${retired} stays in the JWKS until ${until}`)
  }
  ctx.out(
    `Keys are in ${keys.file}; a running issuer using this folder serves the new key on its next request.`,
  )
  return EXIT.ok
}
