/**
 * A local OAuth 2.0 authorization server for development and tests: discovery, JWKS, and a
 * client-credentials token endpoint issuing RFC 9068 access tokens or opaque reference tokens, for the
 * requested resource (RFC 8707), DPoP-bound (RFC 9449) when the request carries a proof; clients
 * authenticated by secret or by `private_key_jwt` (RFC 7523); introspection (RFC 7662, RFC 9701) and
 * revocation (RFC 7009). Not for production: it binds to loopback, and anyone with the printed
 * credentials gets tokens.
 */
import { mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createDpopChecker } from '../core/dpop/checker.js'
import { createMemoryStore } from '../core/store/memory.js'
import type { JWKS } from '../core/types.js'
import { MAX_REMEMBERED_ASSERTIONS } from './client-assertion.js'
import type { ClientDirectory } from './client-auth.js'
import { type DevClient, defaultClients, loadClientsFile, validateClients } from './clients.js'
import { writeJsonFile } from './files.js'
import { findIssuedToken, type TokenAuthority, tokenType } from './introspection.js'
import { KeyRing } from './keys.js'
import { authorizationServerMetadata, type MetadataInput, openidConfiguration, PATHS } from './metadata.js'
import { type IssuerState, type MintOptions, mintClaims, mintWithKeyRing, STATE_FILE } from './mint.js'
import { type DevAlgorithm, type DevIssuerOptions, resolveOptions } from './options.js'
import { createIssuerServer } from './server.js'
import { TokenStore } from './token-store.js'
import { accessTokenClaims, dropUndefined, signToken } from './tokens.js'

export type { DevClient } from './clients.js'
export { CLIENTS_FILE, defaultClients } from './clients.js'
export { KEYS_FILE } from './keys.js'
export { PATHS } from './metadata.js'
export { type IssuerState, type MintOptions, readIssuerState, STATE_FILE } from './mint.js'
export {
  DEFAULT_AUDIENCE,
  DEFAULT_MAX_OPAQUE_TOKENS,
  DEFAULT_TOKEN_LIFETIME,
  DEV_ALGORITHMS,
  type DevAlgorithm,
  type DevIssuerOptions,
  isLoopbackHost,
} from './options.js'
export { TOKEN_FORMATS, type TokenFormat } from './tokens.js'

/** A running dev issuer. */
export interface DevIssuer {
  /** Where it listens, e.g. `http://127.0.0.1:9000`. */
  readonly url: string
  /** The `iss` of its tokens and metadata (equals `url` unless overridden). */
  readonly issuer: string
  /** `{url}/.well-known/jwks.json`. */
  readonly jwksUri: string
  /**
   * `{url}/oauth2/token` (form). AuthAction's JSON endpoint is `{url}/oauth2/m2m/token`. A client
   * assertion's `aud` may name it, or the issuer.
   */
  readonly tokenEndpoint: string
  /** `{url}/oauth2/introspect` (RFC 7662). */
  readonly introspectionEndpoint: string
  /** `{url}/oauth2/revoke` (RFC 7009). */
  readonly revocationEndpoint: string
  /** The default audience of its tokens. */
  readonly audience: string
  /** The algorithm of the current key. */
  readonly alg: DevAlgorithm
  /** The clients, secrets included (this is a dev tool: tests and the CLI need them). */
  readonly clients: readonly DevClient[]
  /** The clients file, or undefined when clients are in memory or given in options. */
  readonly clientsFile: string | undefined
  /** The data folder, or null in memory. */
  readonly dataDir: string | null
  /**
   * Sign a token directly, for tests: RFC 9068 claims for `sub` (default `"dev-user"`) with the issuer's
   * `iss` and `aud`, overridden by `claims` (a claim set to `undefined` is removed) and by `opts`.
   * See {@link MintOptions} for forging expired tokens, foreign headers or unknown kids. With
   * `format: 'opaque'`, the claims are kept and a reference token is returned (`token_type` `Bearer`, or
   * `DPoP` when the claims carry `cnf.jkt`).
   */
  mint(claims?: Record<string, unknown>, opts?: MintOptions): Promise<string>
  /**
   * Revoke a token this issuer issued, whichever client it was issued to: an opaque token is forgotten, a
   * JWT reported inactive by introspection until it expires. Resolves with whether there was an active
   * token to revoke.
   */
  revoke(token: string): Promise<boolean>
  /** Make a new current key; the old one stays published for `rotationGrace` seconds. */
  rotate(): Promise<{ kid: string }>
  /** The JWK Set as currently served. */
  jwks(): Promise<JWKS>
  /** Stop listening and drop open connections. Idempotent. */
  close(): Promise<void>
}

/**
 * Start a dev issuer.
 *
 * @example
 * ```ts
 * const issuer = await startDevIssuer()                  // in memory, free port
 * const token = await issuer.mint({ scope: 'read:messages' })
 * const verifier = createVerifier({ issuer: issuer.issuer, audience: issuer.audience })
 * await verifier.verify(token)
 * await issuer.close()
 * ```
 * @throws TypeError for a wrong option (e.g. a non-loopback host without `allowNonLoopback`); an Error
 *   with the system `code` (`EADDRINUSE`, `EACCES`) when the port cannot be bound.
 */
export async function startDevIssuer(options: DevIssuerOptions = {}): Promise<DevIssuer> {
  const o = resolveOptions(options)
  if (o.dataDir !== null) await mkdir(o.dataDir, { recursive: true, mode: 0o700 })

  let clients: DevClient[]
  let clientsFile: string | undefined
  if (o.clients !== undefined) clients = validateClients(o.clients, 'options.clients')
  else if (o.dataDir === null) clients = defaultClients()
  else ({ clients, path: clientsFile } = await loadClientsFile(o.dataDir))

  const keys = new KeyRing(o.dataDir)
  await keys.current(o.alg) // create the first key before answering anyone
  // Proofs at the token endpoint: every asymmetric algorithm, replays caught in this process's memory.
  const dpop = createDpopChecker()
  const store = new TokenStore(o.maxOpaqueTokens)
  /** Keep the claims, return the reference: `token_type` says how it must be presented (RFC 9449 §6.2). */
  const issueOpaque = (claims: Record<string, unknown>) => {
    const kept = dropUndefined(claims)
    return store.issue({ ...kept, token_type: tokenType(kept) })
  }

  let issuer = ''
  let baseUrl = ''
  const directory: ClientDirectory = {
    clients,
    // RFC 7523 §3 item 3: the issuer identifier, or the token endpoint's URL; the endpoint addressed too,
    // which is what oauth4webapi and Gatehouse's introspector name at the introspection endpoint.
    assertionAudiences: (endpoint) => [issuer, `${baseUrl}${PATHS.token}`, endpoint],
    seenAssertions: createMemoryStore({ maxEntries: MAX_REMEMBERED_ASSERTIONS }),
  }
  const metadataInput = async (): Promise<MetadataInput> => ({
    issuer,
    baseUrl,
    scopes: [...new Set(clients.flatMap((c) => c.scopes))],
    algorithms: await keys.algorithms(),
    dpopAlgorithms: dpop.algorithms,
    introspectionAlgorithm: o.alg,
  })
  const tokenIssuer = {
    directory,
    defaultAudience: o.audience,
    tokenLifetime: o.tokenLifetime,
    dpop,
    async issue(client: DevClient, audience: string, scopes: string[], jkt: string | undefined) {
      const claims = accessTokenClaims({
        issuer,
        audience,
        sub: `${client.clientId}@clients`,
        clientId: client.clientId,
        scopes,
        roles: client.roles,
        permissions: client.permissions,
        extra: client.claims,
        jkt,
        expiresIn: o.tokenLifetime,
        now: Date.now(),
      })
      if ((client.tokenFormat ?? o.tokenFormat) === 'opaque') return issueOpaque(claims)
      return signToken(await keys.current(o.alg), claims)
    },
  }
  const tokenAuthority: TokenAuthority = {
    get issuer() {
      return issuer
    },
    directory,
    find: (token) => findIssuedToken(token, { issuer, store, jwks: () => keys.jwks() }),
    revoke(token, found) {
      if (found.format === 'opaque') store.revokeOpaque(token)
      else store.revokeJwt(token, found.claims)
    },
    async signIntrospection(claims) {
      return signToken(await keys.current(o.alg), claims, { typ: 'token-introspection+jwt' })
    },
  }
  const rotate = async () => ({ kid: (await keys.rotate(o.alg, o.rotationGrace)).kid })

  const server = createIssuerServer({
    openidConfiguration: async () => openidConfiguration(await metadataInput()),
    oauthMetadata: async () => authorizationServerMetadata(await metadataInput()),
    jwks: () => keys.jwks(),
    tokenIssuer: () => tokenIssuer,
    tokenAuthority: () => tokenAuthority,
    rotate,
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // Keep the system code (EADDRINUSE, EACCES…): callers fall back to another port on it.
      const error = new Error(`dev issuer cannot listen on ${o.host}:${o.port}: ${err.message}`, {
        cause: err,
      })
      reject(Object.assign(error, { code: err.code }))
    })
    server.listen(o.port, o.host, () => resolve())
  }).catch(async (error: unknown) => {
    await dpop.close()
    throw error
  })
  const { port } = server.address() as AddressInfo
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host
  baseUrl = `http://${hostForUrl}:${port}`
  issuer = o.issuer ?? baseUrl

  if (o.dataDir !== null) {
    const state: IssuerState = { issuer, audience: o.audience, url: baseUrl, alg: o.alg }
    await writeJsonFile(join(o.dataDir, STATE_FILE), state)
  }

  let closing: Promise<void> | undefined
  return {
    url: baseUrl,
    issuer,
    jwksUri: `${baseUrl}${PATHS.jwks}`,
    tokenEndpoint: `${baseUrl}${PATHS.token}`,
    introspectionEndpoint: `${baseUrl}${PATHS.introspect}`,
    revocationEndpoint: `${baseUrl}${PATHS.revoke}`,
    audience: o.audience,
    alg: o.alg,
    clients,
    clientsFile,
    dataDir: o.dataDir,
    async mint(claims = {}, opts = {}) {
      const defaults = { issuer, audience: o.audience, alg: o.alg, lifetime: o.tokenLifetime }
      if (opts.format !== 'opaque') return mintWithKeyRing(keys, defaults, claims, opts)
      if (opts.alg !== undefined || opts.kid !== undefined || opts.header !== undefined)
        throw new TypeError('mint: alg, kid and header apply to JWTs, not to opaque tokens')
      return issueOpaque(mintClaims(defaults, claims, opts))
    },
    async revoke(token) {
      const found = await tokenAuthority.find(token)
      if (found !== undefined) tokenAuthority.revoke(token, found)
      return found !== undefined
    },
    rotate,
    jwks: () => keys.jwks(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }).then(() => dpop.close())
      return closing
    },
  }
}
