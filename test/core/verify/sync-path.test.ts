/**
 * verifySync / checkSync: the same answers as verify / check, given without waiting when nothing needs
 * waiting for, and PENDING (never a guess, never confused with an anonymous `null`) when only the
 * asynchronous path can answer.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGate, type Gate } from '../../../src/core/http/gate.js'
import { createVerifier, PENDING, type Pending, type Verifier } from '../../../src/core/verify/verifier.js'
import { type JwksServer, startJwksServer } from '../../helpers/jwks-server.js'
import { AUDIENCE, ISSUER, jwksOf, mint, NOW, type TestKey, testKey } from '../../helpers/tokens.js'

let key: TestKey
let server: JwksServer | undefined
let verifier: Verifier | undefined
const now = () => NOW * 1000

/** The synchronous answer, which must be one (not PENDING). */
function answered<T>(result: T | Pending): T {
  expect(result).not.toBe(PENDING)
  return result as T
}

beforeAll(async () => {
  key = await testKey('RS256', 'sync-key')
})
afterEach(async () => {
  verifier?.close()
  await server?.close()
  server = undefined
})

describe('verifier.verifySync', () => {
  it('answers at once with local keys, exactly as verify does', async () => {
    verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: jwksOf(key), now })
    const token = await mint({}, {}, key)
    // Local keys are imported on first use: the first call may need the asynchronous path.
    await verifier.verify(token)
    expect(answered(verifier.verifySync(token)).claims).toEqual((await verifier.verify(token)).claims)
  })

  it('throws the same GatehouseError that verify rejects with', async () => {
    verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: jwksOf(key), now })
    await verifier.verify(await mint({}, {}, key))
    const expired = await mint({ exp: NOW - 60 }, {}, key)
    await expect(verifier.verify(expired)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' })
    expect(() => verifier!.verifySync(expired)).toThrow(expect.objectContaining({ code: 'ERR_JWT_EXPIRED' }))
    expect(() => verifier!.verifySync('not a token')).toThrow(
      expect.objectContaining({ code: 'ERR_JWT_MALFORMED' }),
    )
  })

  it('returns PENDING while the key set has not been fetched, and makes no request itself', async () => {
    server = await startJwksServer({ '/jwks.json': { json: jwksOf(key) } })
    verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: server.url('/jwks.json'), now })
    const token = await mint({}, {}, key)
    expect(verifier.verifySync(token)).toBe(PENDING)
    expect(server.requests).toHaveLength(0)
    await verifier.verify(token)
    expect(server.hits('/jwks.json')).toBe(1)
    expect(answered(verifier.verifySync(token)).claims.sub).toBe((await verifier.verify(token)).claims.sub)
  })

  it('with offload, answers only from the cache', async () => {
    verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: jwksOf(key),
      now,
      offload: true,
      cache: true,
    })
    const token = await mint({}, {}, key)
    expect(verifier.verifySync(token)).toBe(PENDING)
    const verified = await verifier.verify(token)
    expect(verifier.verifySync(token)).toBe(verified)
  })
})

describe('gate.checkSync', () => {
  it('answers null for an anonymous request the rule allows, and throws ERR_NO_TOKEN where it does not', () => {
    const gate = createGate({ issuer: ISSUER, audience: AUDIENCE, keys: jwksOf(key), now })
    expect(gate.checkSync({ method: 'GET', headers: {} }, { optional: ['GET'] })).toBeNull()
    expect(() => gate.checkSync({ method: 'POST', headers: {} }, { optional: ['GET'] })).toThrow(
      expect.objectContaining({ code: 'ERR_NO_TOKEN' }),
    )
    gate.close()
  })

  it('authorizes like check: a missing scope is the same 403', async () => {
    const gate = createGate({ issuer: ISSUER, audience: AUDIENCE, keys: jwksOf(key), now })
    const token = await mint({ scope: 'read:messages' }, {}, key)
    const request = { method: 'POST', headers: { authorization: `Bearer ${token}` } }
    await gate.check(request) // loads the key
    expect(answered(gate.checkSync(request, { scopes: 'read:messages' }))?.scopes.has('read:messages')).toBe(
      true,
    )
    expect(() => gate.checkSync(request, { scopes: 'write:messages' })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_SCOPE', scope: 'write:messages' }),
    )
    gate.close()
  })

  it('leaves requests to check() when a principal hook must run', async () => {
    let calls = 0
    const gate = createGate({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: jwksOf(key),
      now,
      principal: () => ++calls,
    })
    const token = await mint({}, {}, key)
    const request = { method: 'GET', headers: { authorization: `Bearer ${token}` } }
    expect((await gate.check(request))?.principal).toBe(1)
    expect(gate.checkSync(request)).toBe(PENDING)
    expect(calls).toBe(1)
    gate.close()
  })
})

describe('the types make the caller tell PENDING from an answer', () => {
  it('a verified token or PENDING; an auth context, null (anonymous) or PENDING', () => {
    // Checked by tsc (which compiles the tests): claims are reachable only once PENDING is ruled out.
    const readVerified = (result: ReturnType<Verifier['verifySync']>) => {
      // @ts-expect-error PENDING has no claims
      void (() => result.claims)
      return result === PENDING ? undefined : result.claims
    }
    const readChecked = (result: ReturnType<Gate['checkSync']>) => {
      // @ts-expect-error PENDING and null (anonymous) have no claims
      void (() => result.claims)
      return result === PENDING || result === null ? undefined : result.claims
    }
    expect(readVerified(PENDING)).toBeUndefined()
    expect(readChecked(null)).toBeUndefined()
    expect(readChecked(PENDING)).toBeUndefined()
  })
})
