/**
 * Opaque tokens through the gate: the issuer's `tokenSource` routes each token to local verification or
 * to the introspection endpoint (RFC 7662), and an introspected token meets the same rules, DPoP
 * binding included, as a JWT. The endpoint is a real HTTP server on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import { createGate, type GateOptions } from '../../../src/core/http/gate.js'
import { PENDING } from '../../../src/core/verify/verifier.js'
import { AUDIENCE, ISSUER, mint, NOW, type TestKey, testKey } from '../../helpers/tokens.js'
import { athOf, jktOf, proof } from '../dpop/helpers.js'

const clock = () => NOW * 1000
/** Opaque token → what the endpoint answers for it. */
const answers = new Map<string, Record<string, unknown>>()
let calls = 0
let server: Server
let endpoint: string
let signer: TestKey

beforeAll(async () => {
  signer = await testKey('ES256')
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      calls++
      const token = new URLSearchParams(body).get('token') ?? ''
      const authorized = req.headers.authorization === `Basic ${Buffer.from('api:s3cret').toString('base64')}`
      res.writeHead(authorized ? 200 : 401, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify(authorized ? (answers.get(token) ?? { active: false }) : { error: 'invalid_client' }),
      )
    })
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`
})
afterAll(() => new Promise((resolve) => server.close(resolve)))

function gateWith(options: Partial<GateOptions> = {}) {
  return createGate({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { keys: [signer.jwk] },
    now: clock,
    introspection: { url: endpoint, clientId: 'api', clientSecret: 's3cret' },
    ...options,
  } as GateOptions)
}

const active = (extra: Record<string, unknown> = {}) => ({
  active: true,
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'user-1',
  scope: 'read',
  exp: NOW + 600,
  ...extra,
})

const bearer = (token: string) => ({ method: 'GET', headers: { authorization: `Bearer ${token}` } })

async function refusal(promise: Promise<unknown>): Promise<GatehouseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(GatehouseError)
  return error as GatehouseError
}

describe('tokenSource auto (the default with introspection)', () => {
  it('introspects an opaque token, and the claims meet the route’s rule', async () => {
    answers.set('opaque-read', active())
    const gate = gateWith()
    try {
      const auth = await gate.check(bearer('opaque-read'), { scopes: 'read' })
      expect(auth?.claims.sub).toBe('user-1')
      expect([...(auth?.scopes ?? [])]).toEqual(['read'])
      const error = await refusal(gate.check(bearer('opaque-read'), { scopes: 'write' }))
      expect(error.code).toBe('ERR_POLICY_SCOPE')
      // Answered from memory now, in the same tick.
      const before = calls
      expect(gate.checkSync(bearer('opaque-read'))).not.toBe(PENDING)
      expect(calls).toBe(before)
    } finally {
      gate.close()
    }
  })

  it('an inactive token is 401 invalid_token, one of another audience too', async () => {
    answers.set('opaque-other', active({ aud: 'https://other.example.com' }))
    const gate = gateWith()
    try {
      const inactive = await refusal(gate.check(bearer('opaque-unknown')))
      expect([inactive.status, inactive.error]).toEqual([401, 'invalid_token'])
      expect((await refusal(gate.check(bearer('opaque-other')))).code).toBe('ERR_JWT_AUDIENCE_INVALID')
    } finally {
      gate.close()
    }
  })

  it('verifies a JWT here, without asking the endpoint', async () => {
    const gate = gateWith()
    try {
      const before = calls
      const token = await mint({ scope: 'read' }, {}, signer)
      expect((await gate.check(bearer(token)))?.claims.iss).toBe(ISSUER)
      expect(calls).toBe(before)
    } finally {
      gate.close()
    }
  })

  it('a DPoP-bound opaque token (cnf.jkt in the answer) goes through the DPoP checks', async () => {
    const client = await testKey('ES256', 'client')
    answers.set('opaque-bound', active({ cnf: { jkt: await jktOf(client) } }))
    const gate = gateWith({ dpop: 'allowed', dpopProof: { now: clock } })
    try {
      expect((await refusal(gate.check(bearer('opaque-bound')))).code).toBe('ERR_DPOP_BOUND_TOKEN_AS_BEARER')
      const request = {
        method: 'GET',
        url: '/messages',
        origin: 'https://api.example.com',
        headers: {
          authorization: 'DPoP opaque-bound',
          dpop: await proof(client, { ath: athOf('opaque-bound') }),
        },
      }
      const auth = await gate.check(request)
      expect(auth?.tokenType).toBe('dpop')
    } finally {
      gate.close()
    }
  })
})

describe('tokenSource introspection', () => {
  it('asks the endpoint for the issuer’s JWTs too, so that a revoked one stops', async () => {
    const gate = gateWith({ tokenSource: 'introspection' })
    try {
      const token = await mint({ scope: 'read' }, {}, signer)
      const error = await refusal(gate.check(bearer(token)))
      expect(error.code).toBe('ERR_TOKEN_INACTIVE')
    } finally {
      gate.close()
    }
  })
})

describe('configuration', () => {
  it('an issuer set to introspect without introspection options is refused at construction', () => {
    expect(() =>
      createGate({ issuer: ISSUER, audience: AUDIENCE, keys: { keys: [] }, tokenSource: 'introspection' }),
    ).toThrow(/^introspection: expected the introspection endpoint’s client credentials/)
  })

  it('wrong introspection options are named as members of `introspection`', () => {
    expect(() => gateWith({ introspection: { url: endpoint, clientId: 'api' } as never })).toThrow(
      /^introspection\./,
    )
    expect(() =>
      gateWith({ introspection: { url: 'http://example.com/x', clientId: 'api', clientSecret: 'x' } }),
    ).toThrow(/^introspection\.url/)
  })

  it('warmUp proves the credentials with one call: refused ones stop the start, naming them', async () => {
    const good = gateWith()
    const bad = gateWith({ introspection: { url: endpoint, clientId: 'api', clientSecret: 'wrong' } })
    try {
      await good.warmUp()
      await expect(bad.warmUp()).rejects.toThrow(
        /introspection endpoint refused this API's client credentials \(HTTP 401\)/,
      )
    } finally {
      good.close()
      bad.close()
    }
  })

  it('the endpoint down is 503 with Retry-After, never an accepted token', async () => {
    const gate = gateWith({
      introspection: { url: 'http://127.0.0.1:1/introspect', clientId: 'api', clientSecret: 's3cret' },
    })
    try {
      const error = await refusal(gate.check(bearer('opaque-read')))
      expect(error.status).toBe(503)
      expect(gate.reject(error).headers['retry-after']).toBeDefined()
    } finally {
      gate.close()
    }
  })
})
