/**
 * panva's `oidc-provider`, an authorization server no one here wrote, in this process on 127.0.0.1: one
 * confidential client for the client_credentials grant, DPoP (RFC 9449) on, and two resource servers
 * (RFC 8707 resource indicators): one whose access tokens are RFC 9068 JWTs, one whose tokens are opaque.
 * Introspection (RFC 7662, signed answers of RFC 9701) is answered to a second client, the API's own;
 * revocation (RFC 7009) to the client a token was issued to. Node only.
 *
 * @example
 * ```ts
 * const as = await startOidcProvider()
 * afterAll(() => as.close())
 * const gate = createGate({ issuer: as.issuer, audience: as.resource, jwksUri: as.jwksUri })
 * ```
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { exportJWK, generateKeyPair } from 'jose'
import { errors, Provider } from 'oidc-provider'

export interface OidcProviderServer {
  /** `http://127.0.0.1:{port}`, the `iss` of its tokens. */
  readonly issuer: string
  /** `{issuer}/jwks`, as its discovery document says. */
  readonly jwksUri: string
  /** `{issuer}/token`. */
  readonly tokenUrl: string
  readonly clientId: string
  readonly clientSecret: string
  /** The resource indicator, and the `aud` of the access tokens issued for it. */
  readonly resource: string
  /** The resource indicator whose access tokens are opaque: known only through introspection. */
  readonly opaqueResource: string
  /**
   * The API's client (client_secret_basic): the only one answered at the introspection endpoint, with a
   * signed answer when it asks for one.
   */
  readonly apiClientId: string
  readonly apiClientSecret: string
  /** The scopes the resource server knows, space-separated. */
  readonly scope: string
  /** Stop listening and destroy open sockets. Idempotent. */
  close(): Promise<void>
}

export interface OidcProviderOptions {
  /** Default `https://api.example.test`. */
  resource?: string
  /** Default `https://opaque.example.test`. */
  opaqueResource?: string
  /** Default `read:messages write:messages`. */
  scope?: string
  /** JWS algorithm of the access tokens, `ES256` or `RS256`. Default `ES256`. */
  alg?: 'ES256' | 'RS256'
}

/**
 * Storage for the provider's stateful records (DPoP proof `jti`s at the token endpoint, opaque access
 * tokens until they expire or are revoked; JWT access tokens are not stored). Its own per provider,
 * unlike the package's module-wide memory adapter, which also prints a warning on every start.
 */
function mapAdapter() {
  const records = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>()
  return class MapAdapter {
    constructor(readonly name: string) {}
    private key(id: string) {
      return `${this.name}:${id}`
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      const expiresAt = expiresIn === undefined ? Number.POSITIVE_INFINITY : Date.now() + expiresIn * 1000
      records.set(this.key(id), { payload, expiresAt })
    }
    async find(id: string) {
      const record = records.get(this.key(id))
      if (record === undefined || record.expiresAt <= Date.now()) return undefined
      return record.payload
    }
    async findByUid() {
      return undefined
    }
    async findByUserCode() {
      return undefined
    }
    async consume(id: string) {
      const record = records.get(this.key(id))
      if (record !== undefined) record.payload.consumed = Math.floor(Date.now() / 1000)
    }
    async destroy(id: string) {
      records.delete(this.key(id))
    }
    async revokeByGrantId() {}
  }
}

/** Start the provider on 127.0.0.1 with an ephemeral port. */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<OidcProviderServer> {
  const {
    resource = 'https://api.example.test',
    opaqueResource = 'https://opaque.example.test',
    scope = 'read:messages write:messages',
    alg = 'ES256',
  } = options
  const clientId = 'gatehouse-interop'
  const clientSecret = 'a client secret for the interop tests only'
  const apiClientId = 'gatehouse-api'
  // ASCII only: RFC 6749 Appendix A's VSCHAR, which the provider enforces. Its spaces test the form-encoding.
  const apiClientSecret = 'the API client secret for the interop tests only'

  // The issuer names its port, so the server listens before the provider exists.
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  const server = createServer((req, res) => handle?.(req, res))
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const { privateKey } = await generateKeyPair(alg, { extractable: true })
  const signingKey = { ...(await exportJWK(privateKey)), kid: `interop-${alg}`, alg, use: 'sig' }

  const provider = new Provider(issuer, {
    adapter: mapAdapter(),
    jwks: { keys: [signingKey] },
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: apiClientId,
        client_secret: apiClientSecret,
        grant_types: [],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    // The defaults (RS256) need a key of that type in `jwks`, even for a client that never gets an ID token
    // or a signed introspection answer (sent to whoever asks with `Accept: application/token-introspection+jwt`).
    clientDefaults: { id_token_signed_response_alg: alg, introspection_signed_response_alg: alg },
    // Said, so the provider does not print that its default was used.
    ttl: { ClientCredentials: 600 },
    features: {
      clientCredentials: { enabled: true },
      // On by default in v9; said here because the tests depend on it. No nonce at the token endpoint.
      dPoP: { enabled: true },
      // Not used (no authorization endpoint flows), and it warns on start.
      devInteractions: { enabled: false },
      introspection: {
        enabled: true,
        // Only the API learns what a token stands for; the default answers any authenticated client.
        allowedPolicy: async (_ctx: unknown, client: { clientId: string }) => client.clientId === apiClientId,
      },
      jwtIntrospection: { enabled: true },
      revocation: {
        enabled: true,
        // The default's rule, said so that the provider does not warn that the default was used.
        allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) =>
          token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        // A token request without `resource` gets this one: without it, the token would be opaque.
        defaultResource: async () => resource,
        // Authorization-code flows only; client_credentials always names (or defaults) its resource.
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          if (indicator === opaqueResource)
            return { scope, audience: opaqueResource, accessTokenFormat: 'opaque' }
          if (indicator !== resource) throw new errors.InvalidTarget()
          return {
            scope,
            audience: resource,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg } },
          }
        },
      },
    },
  })
  handle = provider.callback()

  let closing: Promise<void> | undefined
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    tokenUrl: `${issuer}/token`,
    clientId,
    clientSecret,
    resource,
    opaqueResource,
    apiClientId,
    apiClientSecret,
    scope,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
      return closing
    },
  }
}
