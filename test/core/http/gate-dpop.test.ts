/**
 * DPoP through the gate (RFC 9449 §7): the issuer's mode decides which schemes a token may come with,
 * the proof is checked against the request's URL as the gate derives it, and the challenge names the
 * schemes on offer with the error on the one the request used.
 */
import { describe, expect, it } from 'vitest'
import type { DpopMode } from '../../../src/core/config/options.js'
import { GatehouseError } from '../../../src/core/errors.js'
import { createGate, type GateOptions, type GateRequest } from '../../../src/core/http/gate.js'
import { createMemoryStore } from '../../../src/core/store/memory.js'
import { PENDING } from '../../../src/core/verify/verifier.js'
import { AUDIENCE, ISSUER, mint, NOW, type TestKey, testKey } from '../../helpers/tokens.js'
import { athOf, jktOf, proof } from '../dpop/helpers.js'

const clock = () => NOW * 1000

async function setup(mode: DpopMode | undefined, extra: Partial<GateOptions> = {}) {
  const signer = await testKey('ES256')
  const client = await testKey('EdDSA', 'client')
  const jkt = await jktOf(client)
  const gate = createGate({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { keys: [signer.jwk] },
    now: clock,
    ...(mode === undefined ? {} : { dpop: mode }),
    dpopProof: { now: clock },
    ...extra,
  })
  const bound = await mint({ cnf: { jkt }, scope: 'read' }, {}, signer)
  const plain = await mint({ scope: 'read' }, {}, signer)
  return { gate, signer, client, jkt, bound, plain }
}

/** A GET of https://api.example.com/messages with `token` under `scheme` and the proofs given. */
function request(token: string, scheme: 'Bearer' | 'DPoP', dpop?: string | string[]): GateRequest {
  const headers: Record<string, string | string[]> = {
    host: 'api.example.com',
    authorization: `${scheme} ${token}`,
  }
  if (dpop !== undefined) headers.dpop = dpop
  return { method: 'GET', url: '/messages?page=2', origin: 'https://api.example.com', headers }
}

const proofFor = (client: TestKey, token: string, claims: Record<string, unknown> = {}) =>
  proof(client, { ath: athOf(token), ...claims })

async function refusal(promise: Promise<unknown>): Promise<GatehouseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(GatehouseError)
  return error as GatehouseError
}

describe('mode allowed', () => {
  it('accepts a bound token with its proof, and says how it came and with which key', async () => {
    const { gate, client, jkt, bound } = await setup('allowed')
    const auth = await gate.check(request(bound, 'DPoP', await proofFor(client, bound)))
    expect(auth?.tokenType).toBe('dpop')
    expect(auth?.jkt).toBe(jkt)
    expect(JSON.stringify(auth)).not.toContain(bound)
  })

  it('answers in the same tick with checkSync, and a replayed proof is refused there too', async () => {
    const { gate, client, jkt, bound } = await setup('allowed')
    const p = await proofFor(client, bound)
    await gate.check(request(bound, 'DPoP', await proofFor(client, bound))) // the proof key is now known
    const auth = gate.checkSync(request(bound, 'DPoP', p))
    expect(auth).not.toBe(PENDING)
    expect((auth as { jkt: string }).jkt).toBe(jkt)
    expect(() => gate.checkSync(request(bound, 'DPoP', p))).toThrow(
      expect.objectContaining({ code: 'ERR_DPOP_PROOF_REPLAYED' }),
    )
  })

  it('accepts an unbound token as Bearer', async () => {
    const { gate, plain } = await setup('allowed')
    const auth = await gate.check(request(plain, 'Bearer'))
    expect(auth?.tokenType).toBe('bearer')
    expect(auth?.jkt).toBeUndefined()
  })

  it('refuses a bound token sent as Bearer, with both challenges and the error on Bearer', async () => {
    const { gate, bound } = await setup('allowed')
    const error = await refusal(gate.check(request(bound, 'Bearer')))
    expect(error.code).toBe('ERR_DPOP_BOUND_TOKEN_AS_BEARER')
    const { status, headers } = gate.reject(error)
    expect(status).toBe(401)
    expect(headers['www-authenticate']).toMatch(/^Bearer error="invalid_token", .*, DPoP algs="ES256 /)
  })

  it('refuses an unbound token sent with DPoP (the binding check, RFC 9449 §4.3 check 12)', async () => {
    const { gate, client, plain } = await setup('allowed')
    const error = await refusal(gate.check(request(plain, 'DPoP', await proofFor(client, plain))))
    expect(error.code).toBe('ERR_DPOP_BINDING_MISMATCH')
    expect(gate.reject(error).headers['www-authenticate']).toMatch(
      /^Bearer, DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="/,
    )
  })

  it('refuses a proof made for another token, for another URL, another method, or two proofs', async () => {
    const { gate, client, bound, plain } = await setup('allowed')
    const cases: [string | string[], string][] = [
      [await proofFor(client, plain), 'ERR_DPOP_PROOF_ATH_MISMATCH'],
      [
        await proofFor(client, bound, { htu: 'https://api.example.com/other' }),
        'ERR_DPOP_PROOF_HTU_MISMATCH',
      ],
      [await proofFor(client, bound, { htm: 'POST' }), 'ERR_DPOP_PROOF_HTM_MISMATCH'],
      [[await proofFor(client, bound), await proofFor(client, bound)], 'ERR_DPOP_PROOF_MULTIPLE'],
      ['', 'ERR_DPOP_PROOF_MISSING'],
    ]
    for (const [dpop, code] of cases) {
      const error = await refusal(gate.check(request(bound, 'DPoP', dpop)))
      expect(error.code).toBe(code)
      expect(gate.reject(error).headers['www-authenticate']).toMatch(/DPoP error="invalid_dpop_proof"/)
    }
    expect((await refusal(gate.check(request(bound, 'DPoP')))).code).toBe('ERR_DPOP_PROOF_MISSING')
  })

  it('puts insufficient_scope on the DPoP challenge when the request used DPoP', async () => {
    const { gate, client, bound } = await setup('allowed')
    const error = await refusal(
      gate.check(request(bound, 'DPoP', await proofFor(client, bound)), { scopes: 'write' }),
    )
    expect(error.code).toBe('ERR_POLICY_SCOPE')
    expect(gate.reject(error).headers['www-authenticate']).toMatch(
      /^Bearer, DPoP error="insufficient_scope", .*scope="write", algs="/,
    )
  })

  it('challenges a request without a token with both schemes and no error', async () => {
    const { gate } = await setup('allowed')
    const error = await refusal(gate.check({ method: 'GET', headers: {} }))
    expect(gate.reject(error).headers['www-authenticate']).toBe(
      'Bearer, DPoP algs="ES256 ES384 ES512 EdDSA Ed25519 PS256 PS384 PS512 RS256 RS384 RS512"',
    )
  })
})

describe('mode required', () => {
  it('refuses Bearer, offering only DPoP', async () => {
    const { gate, plain } = await setup('required')
    const error = await refusal(gate.check(request(plain, 'Bearer')))
    expect(error.code).toBe('ERR_DPOP_REQUIRED')
    expect(gate.reject(error).headers['www-authenticate']).toMatch(/^DPoP error="invalid_token", .*algs="/)
  })

  it('accepts DPoP', async () => {
    const { gate, client, bound } = await setup('required')
    expect((await gate.check(request(bound, 'DPoP', await proofFor(client, bound))))?.tokenType).toBe('dpop')
  })
})

describe('mode off (the default)', () => {
  it('is the default: challenges name Bearer only', async () => {
    const { gate } = await setup(undefined)
    const error = await refusal(gate.check({ method: 'GET', headers: {} }))
    expect(gate.reject(error).headers['www-authenticate']).toBe('Bearer')
  })

  it('does not read the DPoP scheme and accepts a bound token as Bearer, as without DPoP', async () => {
    const { gate, client, bound } = await setup('off')
    const error = await refusal(gate.check(request(bound, 'DPoP', await proofFor(client, bound))))
    expect(error.code).toBe('ERR_NO_TOKEN')
    expect(gate.reject(error).headers['www-authenticate']).toBe('Bearer')
    expect((await gate.check(request(bound, 'Bearer')))?.tokenType).toBe('bearer')
  })

  it('refuses the DPoP scheme for an issuer that is off when another issuer allows it', async () => {
    const signer = await testKey('ES256')
    const client = await testKey('EdDSA', 'client')
    const gate = createGate({
      audience: AUDIENCE,
      keys: { keys: [signer.jwk] },
      now: clock,
      dpopProof: { now: clock },
      issuers: [
        { issuer: ISSUER, dpop: 'off' },
        { issuer: 'https://other.example.com/', dpop: 'allowed' },
      ],
    })
    const bound = await mint({ cnf: { jkt: await jktOf(client) } }, {}, signer)
    const error = await refusal(gate.check(request(bound, 'DPoP', await proofFor(client, bound))))
    expect(error.code).toBe('ERR_DPOP_NOT_ALLOWED')
  })
})

describe('the URL a proof must name', () => {
  it('is the request as received by default: the adapter’s origin, else http and the Host header', async () => {
    const { gate, client, bound } = await setup('allowed')
    const p = await proofFor(client, bound, { htu: 'http://api.internal:8080/messages' })
    const headers = { host: 'api.internal:8080', authorization: `DPoP ${bound}`, dpop: p }
    expect(await gate.check({ method: 'GET', url: '/messages', headers })).not.toBeNull()
  })

  it('never puts the request’s query in the cause of a refusal', async () => {
    const { gate, client, bound } = await setup('allowed')
    const p = await proofFor(client, bound, { htu: 'https://api.example.com/other' })
    const headers = { host: 'api.example.com', authorization: `DPoP ${bound}`, dpop: p }
    const error = await refusal(gate.check({ method: 'GET', url: '/messages?access_token=SECRET', headers }))
    expect(error.code).toBe('ERR_DPOP_PROOF_HTU_MISMATCH')
    expect(JSON.stringify(error.cause)).toContain('/messages')
    expect(JSON.stringify(error.cause)).not.toContain('SECRET')
  })

  it('ignores X-Forwarded-* unless trusted', async () => {
    const { gate, client, bound } = await setup('allowed')
    const p = await proofFor(client, bound, { htu: 'https://evil.example/messages' })
    const headers = {
      host: 'api.example.com',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      authorization: `DPoP ${bound}`,
      dpop: p,
    }
    const error = await refusal(gate.check({ method: 'GET', url: '/messages', headers }))
    expect(error.code).toBe('ERR_DPOP_PROOF_HTU_MISMATCH')
  })

  it('takes Forwarded, then X-Forwarded-Proto and -Host, with trustForwardedHeaders', async () => {
    const { gate, client, bound } = await setup('allowed', { trustForwardedHeaders: true })
    const htu = 'https://public.example.com/messages'
    for (const forwarded of [
      { forwarded: 'for=10.0.0.1;proto=https;host=public.example.com, for=10.0.0.2' },
      { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.example.com' },
    ]) {
      const headers = {
        host: 'backend:3000',
        authorization: `DPoP ${bound}`,
        dpop: await proofFor(client, bound, { htu }),
        ...forwarded,
      }
      expect(await gate.check({ method: 'GET', url: '/messages', headers })).not.toBeNull()
    }
  })

  it('is publicUrl with the request’s path, a path prefix included', async () => {
    const { gate, client, bound } = await setup('allowed', { publicUrl: 'https://example.com/api/' })
    const p = await proofFor(client, bound, { htu: 'https://example.com/api/messages' })
    const headers = { host: 'backend:3000', authorization: `DPoP ${bound}`, dpop: p }
    expect(await gate.check({ method: 'GET', url: '/messages?x=1', headers })).not.toBeNull()
    const wrong = await proofFor(client, bound, { htu: 'http://backend:3000/messages' })
    const error = await refusal(
      gate.check({ method: 'GET', url: '/messages', headers: { ...headers, dpop: wrong } }),
    )
    expect(error.code).toBe('ERR_DPOP_PROOF_HTU_MISMATCH')
  })

  it('refuses a publicUrl with a query, or that is not http(s), naming the option', async () => {
    await expect(setup('allowed', { publicUrl: 'https://a.example/?x=1' })).rejects.toThrow(/^publicUrl:/)
    await expect(setup('allowed', { publicUrl: 'ftp://a.example/' })).rejects.toThrow(/^publicUrl:/)
  })
})

describe('nonces and the store', () => {
  it('asks for a nonce with use_dpop_nonce and a DPoP-Nonce header, then accepts it', async () => {
    const secret = 'a-secret-of-at-least-thirty-two-bytes!!'
    const { gate, client, bound } = await setup('allowed', { dpopProof: { now: clock, nonce: { secret } } })
    const error = await refusal(gate.check(request(bound, 'DPoP', await proofFor(client, bound))))
    expect(error.code).toBe('ERR_DPOP_NONCE_MISSING')
    const { headers } = gate.reject(error)
    expect(headers['www-authenticate']).toMatch(/DPoP error="use_dpop_nonce"/)
    const nonce = headers['dpop-nonce']
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    const auth = await gate.check(request(bound, 'DPoP', await proofFor(client, bound, { nonce })))
    expect(auth?.tokenType).toBe('dpop')
  })

  it('records proofs in the store it is given', async () => {
    const store = createMemoryStore()
    const { gate, client, bound } = await setup('allowed', { dpopProof: { now: clock, store } })
    const p = await proofFor(client, bound)
    await gate.check(request(bound, 'DPoP', p))
    expect(store.size).toBe(1)
  })

  it('refuses options the checker refuses, named as gate options', async () => {
    await expect(setup('allowed', { dpopProof: { maxAge: -1 } })).rejects.toThrow(/^dpopProof\.maxAge:/)
    await expect(setup('allowed', { dpopProof: { store: 'http://redis:6379' } })).rejects.toThrow(
      /^dpopProof\.store:/,
    )
    await expect(setup('allowed', { dpop: 'maybe' as DpopMode })).rejects.toThrow(/^dpop:/)
  })
})
