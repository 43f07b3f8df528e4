/**
 * `gatehouse token`: mint a development access token with the dev issuer's persisted key, and print only
 * the token, so `curl -H "Authorization: Bearer $(gatehouse token)"` works. With `--dpop`, the token is
 * bound to the CLI's DPoP key (RFC 9449 §6.1) and a proof for one request follows it.
 */
import { join, resolve } from 'node:path'
import {
  DEFAULT_AUDIENCE,
  DEFAULT_TOKEN_LIFETIME,
  DEV_ALGORITHMS,
  readIssuerState,
  STATE_FILE,
} from '../../dev-issuer/index.js'
import { KeyRing } from '../../dev-issuer/keys.js'
import { mintWithKeyRing } from '../../dev-issuer/mint.js'
import { choice, duration, list, parse } from '../args.js'
import { type Command, EXIT, UsageError } from '../context.js'
import { loadOrCreateDpopKey, makeProof, proofMethod, proofUrl } from '../dpop-key.js'
import { DEFAULT_DATA_DIR, DEFAULT_PORT } from './issuer.js'

const help = `Usage: gatehouse token [options]

Mint a development access token (RFC 9068) signed with the key in the dev issuer's data folder (created if
missing), and print only the token. Tokens verify against a dev issuer using the same folder. Standard
error says which keys file and issuer were used, and when a key was created.

Options:
  --sub SUB              subject (default dev-user)
  --scope SCOPE          scope(s), repeatable or space-separated
  --role ROLE            "roles" claim entry, repeatable
  --permission PERM      "permissions" claim entry, repeatable
  --aud AUD              audience, repeatable (default: the issuer's, else ${DEFAULT_AUDIENCE})
  --expires-in DUR       lifetime: 3600, 90s, 15m, 2h, 1d; negative for an expired token: --expires-in=-1h
                         (default 1h)
  --alg ALG              ${DEV_ALGORITHMS.join(', ')} (default: the issuer's, else RS256)
  --client-id ID         the "client_id" claim (default gatehouse-dev)
  --claim NAME=JSON      any other claim, repeatable; the value is JSON if it parses, else a string
  --data-dir DIR         the dev issuer's data folder (default ${DEFAULT_DATA_DIR})
  --issuer URL           the "iss" claim (default: the issuer last started with DIR, else
                         http://127.0.0.1:${DEFAULT_PORT})

DPoP (RFC 9449):
  --dpop                 bind the token to the DPoP key in DIR/dpop-key.json (an ES256 key made on first
                         use, mode 0600) with a "cnf" claim, and print a second line: a proof for one
                         request with that token. Send it as Authorization: DPoP TOKEN and DPoP: PROOF; for
                         further requests make proofs with gatehouse proof
  --url URL              with --dpop, required: the URL of that request
  --method METHOD        with --dpop: its method (default GET)

Examples:
  curl -H "Authorization: Bearer $(gatehouse token --scope read:messages)" http://127.0.0.1:8000/api/messages

  { read -r T; read -r P; } < <(gatehouse token --dpop --url http://127.0.0.1:8000/protected)
  curl -H "Authorization: DPoP $T" -H "DPoP: $P" http://127.0.0.1:8000/protected

Exit codes: 0 printed a token, 1 could not (unreadable key file), 2 usage error.`

export const command: Command = {
  name: 'token',
  summary: "mint a development access token with the dev issuer's key",
  help,
  async run(argv, ctx) {
    const { values, positionals } = parse(argv, {
      sub: { type: 'string' },
      scope: { type: 'string', multiple: true },
      role: { type: 'string', multiple: true },
      permission: { type: 'string', multiple: true },
      aud: { type: 'string', multiple: true },
      'expires-in': { type: 'string' },
      alg: { type: 'string' },
      'client-id': { type: 'string' },
      claim: { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      issuer: { type: 'string' },
      dpop: { type: 'boolean' },
      url: { type: 'string' },
      method: { type: 'string' },
    })
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
    const dpop = values.dpop === true
    if (!dpop && (values.url !== undefined || values.method !== undefined))
      throw new UsageError('--url and --method go with --dpop')
    // Checked before any key is made: a usage error leaves the folder as it was.
    if (dpop && values.url === undefined)
      throw new UsageError('--dpop needs --url: the URL of the request its proof is for')
    const request = dpop ? { url: proofUrl(values.url), method: proofMethod(values.method) } : undefined
    if (dpop && values.claim?.some((pair) => pair.startsWith('cnf=')))
      throw new UsageError('--claim cannot set "cnf" with --dpop, which sets it')
    const dataDir = resolve(ctx.cwd, values['data-dir'] ?? DEFAULT_DATA_DIR)
    const state = await readIssuerState(dataDir)
    const issuer = values.issuer ?? state?.issuer ?? `http://127.0.0.1:${DEFAULT_PORT}`
    const issuerSource =
      values.issuer !== undefined
        ? '--issuer'
        : state !== undefined
          ? `the issuer last started with ${join(dataDir, STATE_FILE)}`
          : 'the default: no issuer has run with this folder'
    if (!URL.canParse(issuer))
      throw new UsageError(`--issuer must be an absolute URL, got ${JSON.stringify(issuer)}`)
    const audiences = values.aud ?? []
    const audience = audiences.length === 0 ? (state?.audience ?? DEFAULT_AUDIENCE) : audiences
    const claims: Record<string, unknown> = { ...extraClaims(values.claim), aud: audience }
    const scopes = list(values.scope)
    if (scopes.length > 0) claims.scope = scopes.join(' ')
    const roles = list(values.role)
    if (roles.length > 0) claims.roles = roles
    const permissions = list(values.permission)
    if (permissions.length > 0) claims.permissions = permissions
    if (values['client-id'] !== undefined) claims.client_id = values['client-id']

    const alg = choice('alg', values.alg, DEV_ALGORITHMS, state?.alg ?? 'RS256')
    const expiresIn = duration('expires-in', values['expires-in'], DEFAULT_TOKEN_LIFETIME)
    const dpopKey = dpop ? await loadOrCreateDpopKey(dataDir) : undefined
    if (dpopKey !== undefined) claims.cnf = { jkt: dpopKey.jkt }
    const keys = new KeyRing(dataDir)
    // Run in the wrong folder, this would sign with a key no running issuer publishes: say which keys and
    // which issuer were used, and loudly when the key was made just now (stderr: stdout is the token).
    const created = !(await keys.currentAlgorithms()).includes(alg)
    const token = await mintWithKeyRing(
      keys,
      { issuer, audience: DEFAULT_AUDIENCE, alg: state?.alg ?? 'RS256', lifetime: DEFAULT_TOKEN_LIFETIME },
      claims,
      { alg, expiresIn, sub: values.sub ?? 'dev-user' },
    )
    ctx.out(token)
    if (dpopKey !== undefined && request !== undefined)
      ctx.out(makeProof(dpopKey, { ...request, accessToken: token }))
    if (created) {
      ctx.err(
        `gatehouse token: created a new ${alg} signing key in ${keys.file}. A dev issuer accepts this token ` +
          `only if it uses this folder: gatehouse issuer --data-dir ${dataDir}`,
      )
    }
    if (dpopKey?.created)
      ctx.err(`gatehouse token: created a new DPoP key in ${dpopKey.file} (thumbprint ${dpopKey.jkt})`)
    ctx.err(
      `gatehouse token: signed with the ${alg} key in ${keys.file}, for issuer ${issuer} (${issuerSource})`,
    )
    if (dpopKey !== undefined)
      ctx.err(`gatehouse token: bound to the DPoP key in ${dpopKey.file} (cnf.jkt ${dpopKey.jkt})`)
    return EXIT.ok
  },
}

const REGISTERED = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'jti'])

function extraClaims(pairs: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--claim expects NAME=VALUE, got ${JSON.stringify(pair)}`)
    const name = pair.slice(0, eq)
    // These have their own options (or follow from --expires-in); two ways to set one value only confuse.
    if (REGISTERED.has(name)) throw new UsageError(`--claim cannot set "${name}"; use the dedicated option`)
    const raw = pair.slice(eq + 1)
    try {
      out[name] = JSON.parse(raw)
    } catch {
      out[name] = raw
    }
  }
  return out
}
