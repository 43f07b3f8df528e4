/**
 * Differential test: Gatehouse and jose's `jwtVerify` (with `createLocalJWKSet` over the same keys and
 * the same policy: issuer, audience, algorithms, clockTolerance, required `exp`, same clock) must agree
 * on accept/reject for generated tokens (valid and invalid claims) and their mutations.
 *
 * Gatehouse is documented to be stricter than jose in these cases, which are filtered out explicitly by
 * `stricterCase` (and each has its own test elsewhere):
 * 1. non-canonical base64url in any segment: padding, `+` `/`, whitespace, non-zero trailing bits
 *    (jose on Node 20 decodes with atob, which forgives all of them): jws.test.ts, verify.test.ts;
 * 2. a `crit` or `b64` header member (jose understands `b64` under `crit`): jws.test.ts;
 * 3. a non-string `typ` header: jws.test.ts;
 * 4. a byte order mark or invalid UTF-8 in the header (jose's decoder strips a BOM): jws.test.ts;
 * 5. `iat` in the future beyond the tolerance (jose checks iat only with maxTokenAge): claims.test.ts;
 * 6. a non-string `sub`, `jti`, `client_id` or `scope` (RFC 7519 §4.1.2/§4.1.7, RFC 9068 §2.2):
 *    claims.test.ts;
 * 7. an `aud` array holding a non-string (RFC 7519 §4.1.3): claims.test.ts;
 * 8. a non-finite `exp`, `nbf` or `iat` (JSON 1e999 parses to Infinity): claims.test.ts.
 */
import fc from 'fast-check'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../src/core/errors.js'
import { isCanonicalBase64url } from '../../src/core/lib/base64url.js'
import type { Algorithm } from '../../src/core/types.js'
import type { Verifier } from '../../src/core/verify/verifier.js'
import { AUDIENCE, ISSUER, jwksOf, NOW, sign, type TestKey, testKey, verifierFor } from '../helpers/tokens.js'

const ALGS: Algorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA']
const TOLERANCE = 5
let keys: TestKey[]
let gatehouse: Verifier
let joseKeys: ReturnType<typeof createLocalJWKSet>

beforeAll(async () => {
  keys = await Promise.all(ALGS.map((alg) => testKey(alg)))
  const jwks = jwksOf(...keys)
  gatehouse = verifierFor(keys, { clockTolerance: TOLERANCE })
  joseKeys = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0])
})

async function gatehouseAccepts(token: string): Promise<boolean> {
  try {
    await gatehouse.verify(token)
    return true
  } catch (error) {
    if (!(error instanceof GatehouseError)) throw error
    return false
  }
}

async function joseAccepts(token: string): Promise<boolean> {
  try {
    await jwtVerify(token, joseKeys, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ALGS,
      clockTolerance: TOLERANCE,
      requiredClaims: ['exp'],
      currentDate: new Date(NOW * 1000),
    })
    return true
  } catch {
    return false
  }
}

function decodeLeniently(segment: string | undefined): { bytes: Buffer; json: unknown } {
  const bytes = Buffer.from(segment ?? '', 'base64')
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    json = undefined
  }
  return { bytes, json }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Why Gatehouse may reject what jose accepts (the numbered list at the top), or undefined. */
function stricterCase(token: string): string | undefined {
  const segments = token.split('.')
  if (segments.length === 3 && segments.some((s) => !isCanonicalBase64url(s)))
    return '1: non-canonical base64url'
  const header = decodeLeniently(segments[0])
  if (isObject(header.json)) {
    if ('crit' in header.json || 'b64' in header.json) return '2: crit or b64'
    if ('typ' in header.json && typeof header.json.typ !== 'string') return '3: non-string typ'
  }
  const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  try {
    if (strictUtf8.decode(header.bytes).charCodeAt(0) === 0xfeff) return '4: BOM in the header'
  } catch {
    return '4: invalid UTF-8 in the header'
  }
  const payload = decodeLeniently(segments[1]).json
  if (isObject(payload)) {
    if (typeof payload.iat === 'number' && payload.iat > NOW + TOLERANCE) return '5: iat in the future'
    for (const name of ['sub', 'jti', 'client_id', 'scope']) {
      if (name in payload && typeof payload[name] !== 'string') return `6: non-string ${name}`
    }
    if (Array.isArray(payload.aud) && payload.aud.some((v) => typeof v !== 'string'))
      return '7: aud array with a non-string'
    for (const name of ['exp', 'nbf', 'iat']) {
      if (typeof payload[name] === 'number' && !Number.isFinite(payload[name])) return `8: non-finite ${name}`
    }
  }
  return undefined
}

/** Compare; returns the documented reason when the two may differ and do. */
async function compare(token: string): Promise<{ gatehouse: boolean; jose: boolean; skipped?: string }> {
  const [g, j] = await Promise.all([gatehouseAccepts(token), joseAccepts(token)])
  const reason = stricterCase(token)
  if (g !== j && reason !== undefined && !g && j) return { gatehouse: g, jose: j, skipped: reason }
  return { gatehouse: g, jose: j }
}

const ABSENT = Symbol('absent')
/** Mostly valid values, sometimes one of the invalid ones: every outcome is reached in a few hundred runs. */
const pick = (valid: unknown[], invalid: unknown[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...valid), weight: 5 },
    { arbitrary: fc.constantFrom(...invalid), weight: 1 },
  )
const present = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== ABSENT))

/** Claims across the interesting boundaries. */
const claimsArb = fc
  .record({
    iss: pick([ISSUER], [ISSUER.slice(0, -1), 'https://evil.example.com/', 42, ABSENT]),
    aud: pick([AUDIENCE, [AUDIENCE, 'x']], [['x'], 'other', [AUDIENCE, 42], 7, [], ABSENT]),
    exp: pick(
      [NOW + 3600, NOW + 1, NOW - TOLERANCE + 1],
      [NOW - TOLERANCE, NOW - 3600, '2000000000', null, ABSENT],
    ),
    nbf: pick([ABSENT, NOW - 10, NOW + TOLERANCE], [NOW + TOLERANCE + 1, 'now']),
    iat: pick([ABSENT, NOW - 10, NOW + TOLERANCE], [NOW + TOLERANCE + 100, 'then']),
    sub: pick(['user-1', ABSENT], [1234]),
    scope: pick(['read write', ABSENT], [['read']]),
    extra: fc.jsonValue({ maxDepth: 2 }),
  })
  .map(present)
const headerArb = fc
  .record({
    typ: pick(['JWT', 'at+jwt', ABSENT], [7]),
    crit: pick([ABSENT], [['b64'], ['exp']]),
    x5u: fc.constantFrom(ABSENT, 'https://evil.example/x5u'),
  })
  .map(present)

describe('Gatehouse and jose agree (documented stricter cases excepted)', () => {
  it('on signed tokens with generated claims and headers', async () => {
    const seen = { accepted: 0, rejected: 0, skipped: 0 }
    await fc.assert(
      fc.asyncProperty(
        fc.nat(ALGS.length - 1),
        claimsArb,
        headerArb,
        fc.boolean(),
        async (k, claims, extraHeader, withKid) => {
          const key = keys[k] as TestKey
          const header = { alg: key.alg, ...(withKid ? { kid: key.kid } : {}), ...extraHeader }
          const token = await sign(header, claims, key)
          const result = await compare(token)
          if (result.skipped) seen.skipped++
          else {
            expect(result.gatehouse, `${JSON.stringify(header)} ${JSON.stringify(claims)}`).toBe(result.jose)
            result.gatehouse ? seen.accepted++ : seen.rejected++
          }
        },
      ),
      { numRuns: 250 },
    )
    // The generators reach all three outcomes, so agreement is not vacuous.
    expect(seen.accepted).toBeGreaterThan(0)
    expect(seen.rejected).toBeGreaterThan(0)
    expect(seen.skipped).toBeGreaterThan(0)
  })

  it('on mutations of valid tokens', async () => {
    const valid = await Promise.all(
      keys.map((key) =>
        sign(
          { alg: key.alg, kid: key.kid, typ: 'JWT' },
          { iss: ISSUER, aud: AUDIENCE, exp: NOW + 600, sub: 'u' },
          key,
        ),
      ),
    )
    for (const token of valid) expect(await compare(token)).toEqual({ gatehouse: true, jose: true })
    const chars = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/. \n']
    const seen = { rejectedByBoth: 0, skipped: 0 }
    await fc.assert(
      fc.asyncProperty(
        fc.nat(valid.length - 1),
        fc.constantFrom('substitute', 'insert', 'delete', 'truncate'),
        fc.nat(),
        fc.constantFrom(...chars),
        async (t, kind, at, char) => {
          const original = valid[t] as string
          const i = at % original.length
          const mutated =
            kind === 'substitute'
              ? original.slice(0, i) + char + original.slice(i + 1)
              : kind === 'insert'
                ? original.slice(0, i) + char + original.slice(i)
                : kind === 'delete'
                  ? original.slice(0, i) + original.slice(i + 1)
                  : original.slice(0, i)
          fc.pre(mutated !== original)
          const result = await compare(mutated)
          if (result.skipped) {
            seen.skipped++
            return
          }
          expect(result.gatehouse, JSON.stringify(mutated)).toBe(result.jose)
          expect(result.gatehouse, 'a mutated token was accepted').toBe(false)
          seen.rejectedByBoth++
        },
      ),
      { numRuns: 400 },
    )
    expect(seen.rejectedByBoth).toBeGreaterThan(0)
  })

  it('the stricter cases are real: jose accepts each of these, Gatehouse rejects them', async () => {
    const key = keys[0] as TestKey
    const good = { iss: ISSUER, aud: AUDIENCE, exp: NOW + 600 }
    const h = { alg: key.alg, kid: key.kid }
    const valid = await sign(h, good, key)
    const [hs, ps, ss] = valid.split('.') as [string, string, string]
    const cases: Record<string, string> = {
      'signature with padding': `${hs}.${ps}.${ss}${'='.repeat((4 - (ss.length % 4)) % 4 || 4)}`,
      'signature with a trailing newline': `${valid}\n`,
      'iat in the future': await sign(h, { ...good, iat: NOW + 3600 }, key),
      'non-string sub': await sign(h, { ...good, sub: 42 }, key),
      'crit b64 with b64 true': await sign({ ...h, crit: ['b64'], b64: true }, good, key),
      'BOM before the header JSON': await sign(`\ufeff${JSON.stringify(h)}`, good, key),
      'aud array with a number': await sign(h, { ...good, aud: [AUDIENCE, 1] }, key),
    }
    for (const [name, token] of Object.entries(cases)) {
      expect(stricterCase(token), name).toBeDefined()
      expect(await gatehouseAccepts(token), name).toBe(false)
      expect(await joseAccepts(token), name).toBe(true)
    }
  })
})
