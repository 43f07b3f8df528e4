/**
 * Opaque access tokens end to end with software no one here wrote: panva's `oidc-provider` issues them
 * (client_credentials, RFC 8707 resource whose tokens are opaque), answers its introspection endpoint
 * (RFC 7662, signed answers of RFC 9701) and revokes them (RFC 7009); panva's `oauth4webapi` is the
 * client. Every adapter serves two routes behind the gate over real HTTP on 127.0.0.1, the gate asking
 * oidc-provider what each token stands for with the API's own client credentials.
 */
import 'reflect-metadata'
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Controller, Get, type INestApplication, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import * as dpop from 'dpop'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AccessRule, AuthContext } from '../../src/core/authz/index.js'
import { createGate, type Gate, type GateOptions } from '../../src/core/http/gate.js'
import type { GateIntrospectionOptions } from '../../src/core/http/token-source.js'
import * as ex from '../../src/express/index.js'
import fastifyGatehouse, { authOf as fastifyAuthOf } from '../../src/fastify/index.js'
import * as hono from '../../src/hono/index.js'
import { Auth, GatehouseModule, RequireScopes } from '../../src/nestjs/index.js'
import * as node from '../../src/node/index.js'
import * as web from '../../src/web/index.js'
import { listening } from '../helpers/listening.js'
import { type OidcProviderServer, startOidcProvider } from '../helpers/oidc-provider.js'

const insecure = { [oauth.allowInsecureRequests]: true } as const
/** `GET /messages` needs the scope the tokens carry; `GET /drafts` one they lack. */
const READ: AccessRule = { scopes: 'read:messages' }
const WRITE: AccessRule = { scopes: 'write:messages' }
/** The adapter whose gates are given the endpoint; the others discover it from the issuer's metadata. */
const EXPLICIT_URL = 'web'

let provider: OidcProviderServer
let metadata: oauth.AuthorizationServer
const client: oauth.Client = { client_id: 'gatehouse-interop' }
const closers: (() => Promise<unknown> | unknown)[] = []

/** What every route answers: how the gate saw the request. */
const seen = (auth: AuthContext | null) => ({
  tokenType: auth?.tokenType,
  jkt: auth?.jkt ?? null,
  claims: auth?.claims,
})

/** Each adapter serves `GET /messages` (READ) and `GET /drafts` (WRITE) behind `gate`; resolves with its origin. */
const adapters: Record<string, (gate: Gate) => Promise<string>> = {
  async express(gate) {
    const app = express()
    app.get('/messages', ex.authenticate(gate, READ), (req, res) => {
      res.json(seen(ex.authOf(req)))
    })
    app.get('/drafts', ex.authenticate(gate, WRITE), (req, res) => {
      res.json(seen(ex.authOf(req)))
    })
    app.use(ex.errorHandler())
    return listening(app.listen(0, '127.0.0.1'), closers)
  },
  async fastify(gate) {
    const app = Fastify()
    await app.register(fastifyGatehouse, { gate })
    app.get('/messages', { config: { access: READ } }, async (request) => seen(fastifyAuthOf(request)))
    app.get('/drafts', { config: { access: WRITE } }, async (request) => seen(fastifyAuthOf(request)))
    closers.push(() => app.close())
    return app.listen({ host: '127.0.0.1', port: 0 })
  },
  async hono(gate) {
    const app = new Hono()
    app.onError(hono.errorHandler())
    app.get('/messages', hono.authenticate(gate, READ), (c) => c.json(seen(hono.authOf(c))))
    app.get('/drafts', hono.authenticate(gate, WRITE), (c) => c.json(seen(hono.authOf(c))))
    return listening(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server, closers)
  },
  async nestjs(gate) {
    @Controller()
    class MessagesController {
      @Get('messages')
      @RequireScopes('read:messages')
      messages(@Auth() auth: AuthContext) {
        return seen(auth)
      }
      @Get('drafts')
      @RequireScopes('write:messages')
      drafts(@Auth() auth: AuthContext) {
        return seen(auth)
      }
    }
    @Module({ imports: [GatehouseModule.forRoot(gate)], controllers: [MessagesController] })
    class AppModule {}
    const app: INestApplication = await NestFactory.create(AppModule, { logger: false })
    await app.listen(0, '127.0.0.1')
    closers.push(() => app.close())
    return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`
  },
  async 'node withAuth'(gate) {
    const reply = (_req: IncomingMessage, res: ServerResponse, auth: AuthContext | null) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen(auth)))
    }
    const messages = node.withAuth(gate, reply, { rule: READ })
    const drafts = node.withAuth(gate, reply, { rule: WRITE })
    const server = createServer((req, res) => (req.url === '/drafts' ? drafts : messages)(req, res))
    return listening(server.listen(0, '127.0.0.1'), closers)
  },
  async 'node authenticate'(gate) {
    const server = createServer(async (req, res) => {
      const auth = await node.authenticate(gate, req, res, req.url === '/drafts' ? WRITE : READ)
      if (auth === undefined) return // the refusal was sent
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen(auth)))
    })
    return listening(server.listen(0, '127.0.0.1'), closers)
  },
  async web(gate) {
    const reply = (_request: Request, auth: AuthContext | null) => Response.json(seen(auth))
    const messages = web.withAuth(gate, reply, { rule: READ })
    const drafts = web.withAuth(gate, reply, { rule: WRITE })
    const fetch = (request: Request) =>
      (new URL(request.url).pathname === '/drafts' ? drafts : messages)(request)
    return listening(serve({ fetch, port: 0, hostname: '127.0.0.1' }) as Server, closers)
  },
}

/** A client_credentials token for the opaque resource: DPoP-bound to `keyPair` when given. */
async function opaqueToken(keyPair?: CryptoKeyPair): Promise<string> {
  const DPoP = keyPair === undefined ? undefined : oauth.DPoP(client, keyPair)
  const response = await oauth.clientCredentialsGrantRequest(
    metadata,
    client,
    oauth.ClientSecretBasic(provider.clientSecret),
    { resource: provider.opaqueResource, scope: 'read:messages' },
    { DPoP, ...insecure },
  )
  return (await oauth.processClientCredentialsResponse(metadata, client, response)).access_token
}

/** RFC 9110 §11.6.1 challenges by scheme, as in oidc-provider-dpop.test.ts. */
function challenges(header: string | null): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {}
  let current: Record<string, string> = {}
  for (const [, name, value] of (header ?? '').matchAll(
    /([\w!#$%&'*+.^`|~-]+)(?:=("(?:[^"\\]|\\.)*"|[^\s,]+))?/g,
  )) {
    if (value === undefined) out[name!] = current = {}
    else current[name!] = value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value
  }
  return out
}

/** `GET {origin}{path}` with `Authorization: Bearer {token}`: the status, the JSON body and the challenges. */
async function get(origin: string, path: string, token: string) {
  const response = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${token}` } })
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    challenges: challenges(response.headers.get('www-authenticate')),
  }
}

beforeAll(async () => {
  provider = await startOidcProvider()
  client.client_id = provider.clientId
  const issuer = new URL(provider.issuer)
  metadata = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
})
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close()
  await provider?.close()
})

describe('oidc-provider', () => {
  it('issues an opaque token for the opaque resource, and tells the API’s client only what it stands for', async () => {
    const token = await opaqueToken()
    expect(token).not.toContain('.')
    const introspect = async (id: string, secret: string) =>
      oauth.processIntrospectionResponse(
        metadata,
        { client_id: id },
        await oauth.introspectionRequest(
          metadata,
          { client_id: id },
          oauth.ClientSecretBasic(secret),
          token,
          insecure,
        ),
      )
    expect(await introspect(provider.apiClientId, provider.apiClientSecret)).toMatchObject({
      active: true,
      iss: provider.issuer,
      aud: provider.opaqueResource,
      client_id: provider.clientId,
      scope: 'read:messages',
      token_type: 'Bearer',
    })
    expect(await introspect(provider.clientId, provider.clientSecret)).toEqual({ active: false })
  })
})

/** One call of a gate to the introspection endpoint, as its `fetch` saw it. */
interface Exchange {
  url: string
  accept: string | null
  type: string | null
}

describe.each(Object.keys(adapters))('%s', (name) => {
  const origins = { main: '', uncached: '', clocked: '', signed: '' }
  /** The calls each gate made to the introspection endpoint, by origin. */
  const exchanges = new Map<string, Exchange[]>()
  /** Milliseconds added to the clock of the `clocked` gate. */
  let skew = 0
  let bearer: string

  async function start(options: Partial<GateOptions>, introspection: Partial<GateIntrospectionOptions> = {}) {
    const calls: Exchange[] = []
    const gate = createGate({
      issuer: provider.issuer,
      audience: provider.opaqueResource,
      ...(options.discovery !== true && { jwksUri: metadata.jwks_uri }),
      ...options,
      introspection: {
        clientId: provider.apiClientId,
        clientSecret: provider.apiClientSecret,
        ...(name === EXPLICIT_URL && { url: metadata.introspection_endpoint }),
        // The real fetch, watched: which URL was asked, and whether the answer came signed.
        fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
          const response = await fetch(input, init)
          const accept = new Headers(init?.headers).get('accept')
          calls.push({ url: String(input), accept, type: response.headers.get('content-type') })
          return response
        },
        ...introspection,
      },
    } as GateOptions)
    closers.push(() => gate.close())
    const origin = await adapters[name]!(gate)
    exchanges.set(origin, calls)
    return origin
  }

  beforeAll(async () => {
    bearer = await opaqueToken()
    origins.main = await start({ dpop: 'allowed' })
    origins.uncached = await start({}, { cache: { maxAge: 0 } })
    origins.clocked = await start({ now: () => Date.now() + skew })
    // The answer's keys from the issuer's JWKS, found through its metadata.
    origins.signed = await start({ discovery: true }, { signedResponse: 'require' })
  })

  it('an opaque token: 200 with the introspected claims; a route needing a scope it lacks: 403 insufficient_scope', async () => {
    const answer = await get(origins.main, '/messages', bearer)
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({
      tokenType: 'bearer',
      jkt: null,
      claims: expect.objectContaining({
        iss: provider.issuer,
        aud: provider.opaqueResource,
        client_id: provider.clientId,
        scope: 'read:messages',
      }),
    })

    expect(await get(origins.main, '/drafts', bearer)).toMatchObject({
      status: 403,
      body: { code: 'ERR_POLICY_SCOPE' },
      challenges: { Bearer: { error: 'insufficient_scope', scope: 'write:messages' } },
    })
    // One call, to the endpoint of the metadata (discovered but for one adapter); the second request was answered from memory.
    expect(exchanges.get(origins.main)).toEqual([
      { url: metadata.introspection_endpoint, accept: 'application/json', type: expect.any(String) },
    ])
  })

  it('a token oidc-provider never issued: 401 invalid_token', async () => {
    expect(await get(origins.main, '/messages', randomBytes(32).toString('base64url'))).toMatchObject({
      status: 401,
      body: { code: 'ERR_TOKEN_INACTIVE' },
      challenges: { Bearer: { error: 'invalid_token' } },
    })
  })

  it('revoked at oidc-provider (RFC 7009): refused at once without a cache, after the cache’s 60 s with it', async () => {
    const token = await opaqueToken()
    expect((await get(origins.uncached, '/messages', token)).status).toBe(200)
    expect((await get(origins.clocked, '/messages', token)).status).toBe(200)

    await oauth.processRevocationResponse(
      await oauth.revocationRequest(
        metadata,
        client,
        oauth.ClientSecretBasic(provider.clientSecret),
        token,
        insecure,
      ),
    )
    const inactive = {
      status: 401,
      body: { code: 'ERR_TOKEN_INACTIVE' },
      challenges: { Bearer: { error: 'invalid_token' } },
    }
    expect(await get(origins.uncached, '/messages', token)).toMatchObject(inactive)
    // The answer fetched before the revocation is still reused: the documented window.
    expect((await get(origins.clocked, '/messages', token)).status).toBe(200)
    skew += 61_000
    expect(await get(origins.clocked, '/messages', token)).toMatchObject(inactive)
  })

  it('signedResponse require: oidc-provider’s signed answer (RFC 9701), checked with its discovered keys', async () => {
    const answer = await get(origins.signed, '/messages', bearer)
    expect(answer.status).toBe(200)
    expect(answer.body.claims).toMatchObject({ client_id: provider.clientId, scope: 'read:messages' })
    expect((await get(origins.signed, '/drafts', bearer)).status).toBe(403)
    expect(exchanges.get(origins.signed)).toEqual([
      {
        url: metadata.introspection_endpoint,
        accept: 'application/token-introspection+jwt',
        type: expect.stringMatching(/^application\/token-introspection\+jwt\b/),
      },
    ])
  })

  it('a DPoP-bound opaque token (cnf.jkt in the answer): 200 with an oauth4webapi proof, 401 as Bearer', async () => {
    const keyPair = await oauth.generateKeyPair('ES256')
    const bound = await opaqueToken(keyPair)
    const response = await oauth.protectedResourceRequest(
      bound,
      'GET',
      new URL('/messages', origins.main),
      undefined,
      null,
      { DPoP: oauth.DPoP(client, keyPair), ...insecure },
    )
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      tokenType: 'dpop',
      jkt: await dpop.calculateThumbprint(keyPair.publicKey),
      claims: { cnf: { jkt: await dpop.calculateThumbprint(keyPair.publicKey) } },
    })

    expect(await get(origins.main, '/messages', bound)).toMatchObject({
      status: 401,
      body: { code: 'ERR_DPOP_BOUND_TOKEN_AS_BEARER' },
      challenges: { Bearer: { error: 'invalid_token' } },
    })
  })
})
