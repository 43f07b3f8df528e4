/**
 * The request pipeline's own contract, below every adapter: what a logged auth context shows, the one
 * place that sees every refusal (`onRejection`), and `warmUp()` as a start-up check.
 */
import { format, inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import { createGate, type RejectionEvent } from '../../../src/core/http/gate.js'
import { type JwksServer, startJwksServer } from '../../helpers/jwks-server.js'
import { AUDIENCE, ISSUER, jwksOf, mint, NOW, rejection, testKey } from '../../helpers/tokens.js'

const servers: JwksServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function localGate(extra: Parameters<typeof createGate>[0] extends infer O ? Partial<O> : never = {}) {
  const key = await testKey('RS256')
  return createGate({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: jwksOf(key),
    now: () => NOW * 1000,
    ...extra,
  })
}

describe('a logged auth context never shows the token', () => {
  it('util.inspect and console.log’s formatting show claims, header and principal, not the token', async () => {
    const gate = await localGate()
    const token = await mint({ sub: 'alice' })
    const auth = await gate.check({ method: 'GET', headers: { authorization: `Bearer ${token}` } })
    expect(auth?.token).toBe(token)
    const signature = token.split('.')[2]!
    for (const shown of [inspect(auth), inspect({ auth }, { depth: 5 }), format('%o', auth), format(auth)]) {
      expect(shown).not.toContain(signature)
      expect(shown).not.toContain(token.split('.')[1]!)
      expect(shown).toContain("sub: 'alice'")
    }
    expect(JSON.stringify(auth)).not.toContain(signature)
  })
})

describe('onRejection', () => {
  it('sees every refusal rendered through the gate: error, method, path without the query; never the token', async () => {
    const events: RejectionEvent[] = []
    const gate = await localGate({ onRejection: (event) => events.push(event) })
    const token = await mint({ sub: 'alice' })
    const expired = await mint({ exp: NOW - 3600 })

    const refusals = [
      gate.check({ method: 'GET', headers: {} }).catch((e: GatehouseError) => e),
      gate.check({ method: 'GET', headers: { authorization: `Bearer ${expired}` } }).catch((e) => e),
      gate
        .check({ method: 'POST', headers: { authorization: `Bearer ${token}` } }, { scopes: 'write' })
        .catch((e) => e),
    ]
    const [none, old, weak] = (await Promise.all(refusals)) as GatehouseError[]
    gate.reject(none!, { method: 'GET', url: `/api/me?access_token=${token}` })
    gate.reject(old!, { method: 'GET', url: new URL(`https://api.example.com/a/b?x=${expired}#f`) })
    gate.reject(weak!, { method: 'POST', url: '/messages' })
    gate.reject(new GatehouseError('ERR_JWKS_UNAVAILABLE'))

    expect(events.map(({ error, method, path }) => [error.code, error.status, method, path])).toEqual([
      ['ERR_NO_TOKEN', 401, 'GET', '/api/me'],
      ['ERR_JWT_EXPIRED', 401, 'GET', '/a/b'],
      ['ERR_POLICY_SCOPE', 403, 'POST', '/messages'],
      ['ERR_JWKS_UNAVAILABLE', 503, undefined, undefined],
    ])
    expect(JSON.stringify(events)).not.toContain(token.split('.')[2])
    expect(JSON.stringify(events)).not.toContain(expired.split('.')[2])
  })

  it('a hook that throws does not change the answer', async () => {
    const gate = await localGate({
      onRejection: () => {
        throw new Error('logger down')
      },
    })
    expect(gate.reject(new GatehouseError('ERR_NO_TOKEN'), { method: 'GET' }).status).toBe(401)
  })

  it('must be a function', async () => {
    await expect(localGate({ onRejection: 'log' as never })).rejects.toThrow(/onRejection/)
  })
})

describe('warmUp', () => {
  it('resolves once the keys are loaded', async () => {
    const key = await testKey('RS256')
    const server = await startJwksServer({ '/jwks.json': { json: jwksOf(key) } })
    servers.push(server)
    const gate = createGate({ issuer: ISSUER, audience: AUDIENCE, jwksUri: server.url('/jwks.json') })
    try {
      await gate.warmUp()
      expect(server.hits('/jwks.json')).toBe(1)
    } finally {
      gate.close()
    }
  })

  it('rejects with a message naming the failure (a JWKS URL that answers 404) and the GatehouseError as cause', async () => {
    const server = await startJwksServer()
    servers.push(server)
    const jwksUri = server.url('/missing/jwks.json')
    const gate = createGate({ issuer: ISSUER, audience: AUDIENCE, jwksUri })
    try {
      const error = (await rejection(gate.warmUp())) as Error
      expect(error).not.toBeInstanceOf(GatehouseError)
      expect(error.message).toContain('ERR_JWKS_FETCH_FAILED')
      expect(error.message).toContain(jwksUri)
      expect(error.message).toContain('404')
      expect((error.cause as GatehouseError).code).toBe('ERR_JWKS_FETCH_FAILED')
    } finally {
      gate.close()
    }
  })
})

it('exposes its token locations, for adapters that cannot read every one', async () => {
  expect((await localGate()).tokenLocations).toEqual(['header'])
  expect((await localGate({ tokenLocations: ['header', 'query'] })).tokenLocations).toEqual([
    'header',
    'query',
  ])
})
