/**
 * DPoP (RFC 9449) end to end with software no one here wrote: panva's `oidc-provider` issues DPoP-bound
 * JWT access tokens (client_credentials, RFC 8707 resource, RFC 9068 format), panva's `oauth4webapi`
 * and `dpop` make the proofs, and every adapter serves one route behind the gate over real HTTP on
 * 127.0.0.1. The proofs name the URL the client called (`http://127.0.0.1:{port}/messages`): the gate
 * compares `htu` with the scheme and Host each adapter passes it.
 */
import 'reflect-metadata'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Controller, Get, type INestApplication, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import * as dpop from 'dpop'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuthContext } from '../../src/core/authz/index.js'
import { createGate, type Gate, type GateOptions } from '../../src/core/http/gate.js'
import * as ex from '../../src/express/index.js'
import fastifyGatehouse, { authOf as fastifyAuthOf } from '../../src/fastify/index.js'
import * as hono from '../../src/hono/index.js'
import { Auth, GatehouseModule } from '../../src/nestjs/index.js'
import * as node from '../../src/node/index.js'
import * as web from '../../src/web/index.js'
import { listening } from '../helpers/listening.js'
import { type OidcProviderServer, startOidcProvider } from '../helpers/oidc-provider.js'

const NONCE_SECRET = 'a DPoP nonce secret of at least thirty-two bytes'
const insecure = { [oauth.allowInsecureRequests]: true } as const

let provider: OidcProviderServer
let metadata: oauth.AuthorizationServer
const closers: (() => Promise<unknown> | unknown)[] = []

/** What every app answers on `GET /messages`: how the gate saw the request. */
const seen = (auth: AuthContext | null) => ({
  tokenType: auth?.tokenType,
  jkt: auth?.jkt ?? null,
  sub: auth?.claims.sub,
})

/** Each adapter serves `GET /messages` behind `gate` (a valid token) and resolves with its origin. */
const adapters: Record<string, (gate: Gate) => Promise<string>> = {
  async express(gate) {
    const app = express()
    app.get('/messages', ex.authenticate(gate), (req, res) => {
      res.json(seen(ex.authOf(req)))
    })
    app.use(ex.errorHandler())
    return listening(app.listen(0, '127.0.0.1'), closers)
  },
  async fastify(gate) {
    const app = Fastify()
    await app.register(fastifyGatehouse, { gate })
    app.get('/messages', async (request) => seen(fastifyAuthOf(request)))
    closers.push(() => app.close())
    return app.listen({ host: '127.0.0.1', port: 0 })
  },
  async hono(gate) {
    const app = new Hono()
    app.onError(hono.errorHandler())
    app.get('/messages', hono.authenticate(gate), (c) => c.json(seen(hono.authOf(c))))
    return listening(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server, closers)
  },
  async nestjs(gate) {
    @Controller('messages')
    class MessagesController {
      @Get()
      list(@Auth() auth: AuthContext) {
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
    const handler = node.withAuth(gate, (_req, res, auth) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen(auth)))
    })
    return listening(createServer(handler).listen(0, '127.0.0.1'), closers)
  },
  async 'node authenticate'(gate) {
    const server = createServer(async (req, res) => {
      const auth = await node.authenticate(gate, req, res)
      if (auth === undefined) return // the refusal was sent
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen(auth)))
    })
    return listening(server.listen(0, '127.0.0.1'), closers)
  },
  async web(gate) {
    const fetch = web.withAuth(gate, (_request, auth) => Response.json(seen(auth)))
    return listening(serve({ fetch, port: 0, hostname: '127.0.0.1' }) as Server, closers)
  },
}

const client: oauth.Client = { client_id: 'gatehouse-interop' }

/** A client_credentials token for the resource: DPoP-bound to `keyPair` when given, else a bearer token. */
async function token(keyPair?: CryptoKeyPair) {
  const DPoP = keyPair === undefined ? undefined : oauth.DPoP(client, keyPair)
  const response = await oauth.clientCredentialsGrantRequest(
    metadata,
    client,
    oauth.ClientSecretBasic(provider.clientSecret),
    { resource: provider.resource, scope: 'read:messages' },
    { DPoP, ...insecure },
  )
  return oauth.processClientCredentialsResponse(metadata, client, response)
}

/**
 * RFC 9110 §11.6.1 challenges by scheme: `Bearer realm="a", DPoP algs="ES256", error="x"` →
 * `{ Bearer: { realm: 'a' }, DPoP: { algs: 'ES256', error: 'x' } }`. A quoted value is taken whole, so
 * commas and words inside it are not mistaken for a new challenge.
 */
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

/** An error response: its status, code, challenges by scheme, and `DPoP-Nonce`. */
async function refusal(response: Response) {
  return {
    status: response.status,
    code: ((await response.json()) as { code?: string }).code,
    challenges: challenges(response.headers.get('www-authenticate')),
    nonce: response.headers.get('dpop-nonce'),
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
  it('issues a DPoP-bound JWT access token: token_type DPoP, cnf.jkt of the proof key', async () => {
    const keyPair = await oauth.generateKeyPair('ES256')
    const result = await token(keyPair)
    expect(result.token_type).toBe('dpop') // oauth4webapi lowercases it
    expect(decodeProtectedHeader(result.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' })
    expect(decodeJwt(result.access_token)).toMatchObject({
      iss: provider.issuer,
      aud: provider.resource,
      scope: 'read:messages',
      cnf: { jkt: await dpop.calculateThumbprint(keyPair.publicKey) },
    })
  })

  it('issues a bearer token without a proof: no cnf', async () => {
    const result = await token()
    expect(result.token_type).toBe('bearer')
    expect(decodeJwt(result.access_token).cnf).toBeUndefined()
  })
})

describe.each(Object.keys(adapters))('%s', (name) => {
  /** One app per `dpop` mode, each with its own gate. */
  const origins = { off: '', allowed: '', required: '', nonce: '' }
  let keyPair: CryptoKeyPair
  let jkt: string
  let bound: string
  let bearer: string

  async function start(options: Partial<GateOptions>): Promise<string> {
    const gate = createGate({
      issuer: provider.issuer,
      audience: provider.resource,
      ...options,
    } as GateOptions)
    closers.push(() => gate.close())
    return adapters[name]!(gate)
  }

  beforeAll(async () => {
    keyPair = await oauth.generateKeyPair('ES256')
    jkt = await dpop.calculateThumbprint(keyPair.publicKey)
    bound = (await token(keyPair)).access_token
    bearer = (await token()).access_token
    origins.off = await start({ jwksUri: metadata.jwks_uri })
    origins.allowed = await start({ jwksUri: metadata.jwks_uri, dpop: 'allowed' })
    origins.required = await start({ discovery: true, dpop: 'required' })
    origins.nonce = await start({
      jwksUri: metadata.jwks_uri,
      dpop: 'allowed',
      dpopProof: { nonce: { secret: NONCE_SECRET } },
    })
  })

  /** A GET through oauth4webapi; a use_dpop_nonce challenge is retried once, as its docs show. */
  async function viaOauth4webapi(origin: string, handle: oauth.DPoPHandle) {
    const url = new URL('/messages', origin)
    const options = { DPoP: handle, ...insecure }
    const challenges: oauth.WWWAuthenticateChallengeError[] = []
    try {
      return {
        response: await oauth.protectedResourceRequest(bound, 'GET', url, undefined, null, options),
        challenges,
      }
    } catch (error) {
      if (!oauth.isDPoPNonceError(error)) throw error
      challenges.push(error as oauth.WWWAuthenticateChallengeError)
      return {
        response: await oauth.protectedResourceRequest(bound, 'GET', url, undefined, null, options),
        challenges,
      }
    }
  }

  const withProof = (proof: string, accessToken = bound) => ({
    headers: { authorization: `DPoP ${accessToken}`, dpop: proof },
  })

  it('a DPoP-bound token with an oauth4webapi proof: 200, seen as dpop with the key’s thumbprint', async () => {
    const { response, challenges } = await viaOauth4webapi(origins.allowed, oauth.DPoP(client, keyPair))
    expect(challenges).toEqual([])
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ tokenType: 'dpop', jkt, sub: provider.clientId })
  })

  it('a proof from the dpop package: 200; the same proof again: 401 invalid_dpop_proof', async () => {
    const url = `${origins.allowed}/messages`
    const proof = await dpop.generateProof(keyPair, url, 'GET', undefined, bound)
    const first = await fetch(url, withProof(proof))
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ tokenType: 'dpop', jkt, sub: provider.clientId })

    const again = await refusal(await fetch(url, withProof(proof)))
    expect(again).toMatchObject({
      status: 401,
      code: 'ERR_DPOP_PROOF_REPLAYED',
      challenges: { DPoP: { error: 'invalid_dpop_proof' } },
    })
  })

  it('a proof for another method or another URL: 401 invalid_dpop_proof', async () => {
    const url = `${origins.allowed}/messages`
    const post = await dpop.generateProof(keyPair, url, 'POST', undefined, bound)
    const elsewhere = await dpop.generateProof(keyPair, `${url}/7`, 'GET', undefined, bound)
    for (const [proof, code] of [
      [post, 'ERR_DPOP_PROOF_HTM_MISMATCH'],
      [elsewhere, 'ERR_DPOP_PROOF_HTU_MISMATCH'],
    ] as const) {
      expect(await refusal(await fetch(url, withProof(proof)))).toMatchObject({
        status: 401,
        code,
        challenges: { DPoP: { error: 'invalid_dpop_proof' } },
      })
    }
  })

  it('the DPoP-bound token sent as Bearer: 401 invalid_token', async () => {
    const answer = await refusal(
      await fetch(`${origins.allowed}/messages`, { headers: { authorization: `Bearer ${bound}` } }),
    )
    expect(answer).toMatchObject({
      status: 401,
      code: 'ERR_DPOP_BOUND_TOKEN_AS_BEARER',
      challenges: { Bearer: { error: 'invalid_token' }, DPoP: { algs: expect.stringContaining('ES256') } },
    })
    expect(answer.challenges.DPoP).not.toHaveProperty('error')
  })

  it('a plain bearer token, dpop allowed: 200, seen as bearer', async () => {
    const response = await fetch(`${origins.allowed}/messages`, {
      headers: { authorization: `Bearer ${bearer}` },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ tokenType: 'bearer', jkt: null, sub: provider.clientId })
  })

  it('dpop off (the default): the DPoP scheme is not read, the bound token as Bearer passes, as before DPoP', async () => {
    const url = `${origins.off}/messages`
    const proof = await dpop.generateProof(keyPair, url, 'GET', undefined, bound)
    const answer = await refusal(await fetch(url, withProof(proof)))
    // No issuer of this gate allows DPoP: `Authorization: DPoP` is another scheme, as it was before.
    expect(answer).toMatchObject({ status: 401, code: 'ERR_NO_TOKEN', challenges: { Bearer: {} } })
    expect(Object.keys(answer.challenges)).toEqual(['Bearer'])

    const response = await fetch(url, { headers: { authorization: `Bearer ${bound}` } })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ tokenType: 'bearer', jkt: null, sub: provider.clientId })
  })

  it('dpop required (keys by discovery): a bearer token is refused with a DPoP challenge only; DPoP passes', async () => {
    const answer = await refusal(
      await fetch(`${origins.required}/messages`, { headers: { authorization: `Bearer ${bearer}` } }),
    )
    expect(answer).toMatchObject({ status: 401, code: 'ERR_DPOP_REQUIRED' })
    expect(Object.keys(answer.challenges)).toEqual(['DPoP'])
    expect(answer.challenges.DPoP).toMatchObject({
      algs: expect.stringContaining('ES256'),
      error: 'invalid_token',
    })

    const { response } = await viaOauth4webapi(origins.required, oauth.DPoP(client, keyPair))
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ tokenType: 'dpop', jkt })
  })

  it('with nonces: oauth4webapi is asked for one (401 use_dpop_nonce, DPoP-Nonce), retries, and passes', async () => {
    const handle = oauth.DPoP(client, keyPair)
    const { response, challenges } = await viaOauth4webapi(origins.nonce, handle)
    expect(challenges).toHaveLength(1)
    const asked = challenges[0]!
    expect(asked.status).toBe(401)
    expect(asked.response.headers.get('dpop-nonce')).toMatch(/^[\w-]+$/)
    expect(asked.cause).toContainEqual(
      expect.objectContaining({
        scheme: 'dpop',
        parameters: expect.objectContaining({ error: 'use_dpop_nonce' }),
      }),
    )
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ tokenType: 'dpop', jkt })

    // The client keeps the nonce it learnt: the next request passes without being asked again.
    const next = await viaOauth4webapi(origins.nonce, handle)
    expect(next.challenges).toEqual([])
    expect(next.response.status).toBe(200)
  })

  it('with nonces: a dpop package proof without one is refused, with the server’s nonce it passes', async () => {
    const url = `${origins.nonce}/messages`
    const without = await dpop.generateProof(keyPair, url, 'GET', undefined, bound)
    const asked = await refusal(await fetch(url, withProof(without)))
    expect(asked).toMatchObject({
      status: 401,
      code: 'ERR_DPOP_NONCE_MISSING',
      challenges: { DPoP: { error: 'use_dpop_nonce' } },
    })
    expect(asked.nonce).toMatch(/^[\w-]+$/)

    const proof = await dpop.generateProof(keyPair, url, 'GET', asked.nonce!, bound)
    const response = await fetch(url, withProof(proof))
    expect(response.status).toBe(200)
  })
})
