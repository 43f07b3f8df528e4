/**
 * Property tests (fast-check) of DPoP through the gate: whatever a client puts in `Authorization: DPoP`
 * and in the `DPoP` header (random text, huge values, JSON thousands of levels deep, proofs with any
 * header and claims, signed by the right key or not), the gate refuses with a GatehouseError and never
 * with another exception; and only a proof that is right in every member is accepted, once.
 */
import { createHash, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../src/core/errors.js'
import { createGate, type Gate } from '../../src/core/http/gate.js'
import { PENDING } from '../../src/core/verify/verifier.js'
import { jktOf, publicJwk } from '../core/dpop/helpers.js'
import {
  AUDIENCE,
  b64url,
  ISSUER,
  mint,
  NOW,
  signSegments,
  type TestKey,
  testKey,
} from '../helpers/tokens.js'

const clock = () => NOW * 1000
const HTU = 'https://api.example.com/messages'
let gate: Gate
let client: TestKey
let token: string

beforeAll(async () => {
  const signer = await testKey('ES256')
  client = await testKey('ES256', 'client')
  gate = createGate({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { keys: [signer.jwk] },
    now: clock,
    dpop: 'allowed',
    dpopProof: { now: clock },
  })
  token = await mint({ cnf: { jkt: await jktOf(client) } }, {}, signer)
})

function request(authorization: string, dpop: string | string[] | undefined) {
  const headers: Record<string, string | string[]> = { host: 'api.example.com', authorization }
  if (dpop !== undefined) headers.dpop = dpop
  return { method: 'GET', url: '/messages', origin: 'https://api.example.com', headers }
}

/** 'accepted' or the GatehouseError code, through check and checkSync; anything else fails the property. */
async function outcome(authorization: string, dpop: string | string[] | undefined): Promise<string> {
  let sync: string
  try {
    sync = gate.checkSync(request(authorization, dpop)) === PENDING ? 'later' : 'accepted'
  } catch (error) {
    if (!(error instanceof GatehouseError)) throw new Error(`checkSync threw ${String(error)}`)
    sync = error.code
  }
  if (sync !== 'later') return sync
  try {
    await gate.check(request(authorization, dpop))
    return 'accepted'
  } catch (error) {
    if (!(error instanceof GatehouseError)) throw new Error(`check threw ${String(error)}`)
    return error.code
  }
}

const deepJson = fc.integer({ min: 1, max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth))
const member = fc.oneof(
  fc.constant(undefined), // dropped by JSON.stringify: a missing member
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
)

/** The right value most of the time, so that runs with every member right (accepted) occur. */
const usually = <T>(value: T) =>
  fc.oneof({ arbitrary: fc.constant(value), weight: 12 }, { arbitrary: member, weight: 1 })

describe('DPoP through the gate, hostile input', () => {
  it('random text in the DPoP header and the Authorization header is a GatehouseError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.string({ minLength: 9000, maxLength: 20000 }), deepJson),
        fc.oneof(
          fc.constant(`DPoP ${token}`),
          fc.string().map((s) => `DPoP ${s}`),
        ),
        async (dpop, authorization) => {
          expect(await outcome(authorization, dpop)).not.toBe('accepted')
        },
      ),
      { numRuns: 200 },
    )
  })

  it('proofs with any header and claims, signed by the bound key, pass only when every member is right', async () => {
    const ath = createHash('sha256').update(token).digest('base64url')
    const good = { typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk(client) }
    let accepted = 0
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          typ: usually('dpop+jwt'),
          alg: usually('ES256'),
          jwk: usually(good.jwk),
        }),
        fc.record({
          htm: usually('GET'),
          htu: usually(HTU),
          iat: usually(NOW),
          ath: usually(ath),
        }),
        async (header, claims) => {
          const jti = randomBytes(12).toString('base64url')
          const proof = signSegments(b64url(header), b64url({ ...claims, jti }), client, 'ES256')
          const result = await outcome(`DPoP ${token}`, proof)
          const right =
            header.typ === good.typ &&
            header.alg === good.alg &&
            header.jwk === good.jwk &&
            claims.htm === 'GET' &&
            claims.htu === HTU &&
            claims.iat === NOW &&
            claims.ath === ath
          expect(result === 'accepted').toBe(right)
          if (right) accepted++
          if (right) expect(await outcome(`DPoP ${token}`, proof)).toBe('ERR_DPOP_PROOF_REPLAYED')
        },
      ),
      { numRuns: 150 },
    )
    expect(accepted).toBeGreaterThan(10) // the property saw both sides
  })
})
