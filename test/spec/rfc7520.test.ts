/**
 * RFC 7520 (JOSE Cookbook) §4.1 RS256, §4.2 PS384 and §4.3 ES512, as published
 * (test/fixtures/rfc7520/*.json). Their payload is a quote from The Fellowship of the Ring, not a JSON
 * object: these are JWS, not JWTs, so they are verified at the JWS layer (KeySet selection by kid and
 * alg, then crypto) and the verifier must refuse them as malformed JWTs.
 *
 * §4.1 and §4.2 share one RSA key published without `alg`: the real-world case of a key serving two
 * algorithms of its type (RS256 and PS384).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { verifyAsync, verifySync } from '../../src/core/crypto/signature.js'
import { GatehouseError } from '../../src/core/errors.js'
import { KeySet } from '../../src/core/keys/key-set.js'
import { decodeBase64url } from '../../src/core/lib/base64url.js'
import { ALL_ALGORITHMS, type Algorithm, type JWK } from '../../src/core/types.js'
import { parseCompactJWS } from '../../src/core/verify/jws.js'
import { createVerifier } from '../../src/core/verify/verifier.js'

interface Example {
  source: string
  alg: Algorithm
  jwk: JWK
  jws: string
}

const load = (name: string): Example =>
  JSON.parse(readFileSync(new URL(`../fixtures/rfc7520/${name}.json`, import.meta.url), 'utf8'))
const examples: [string, Example][] = [
  ['4.1', load('4.1-rs256')],
  ['4.2', load('4.2-ps384')],
  ['4.3', load('4.3-es512')],
]
const KID = 'bilbo.baggins@hobbiton.example'
const QUOTE =
  "It\u2019s a dangerous business, Frodo, going out your door. You step onto the road, and if you don't keep your feet, there\u2019s no knowing where you might be swept off to."

/** Both cookbook keys in one set, as a provider would publish them: the same kid, two key types. */
const keySet = () => KeySet.parse({ keys: examples.filter(([s]) => s !== '4.2').map(([, e]) => e.jwk) })

/** JWS-layer verification with the header's own alg and kid picking the key (and the thread-pool path too). */
async function verifies(set: KeySet, jws: string, bothPaths = false): Promise<boolean> {
  const [h, p, s] = jws.split('.')
  const signature = decodeBase64url(s ?? '')
  if (h === undefined || p === undefined || signature === undefined) return false
  let header: { alg: Algorithm; kid?: string }
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))
  } catch {
    return false
  }
  // The header rules of parseCompactJWS (which cannot parse these non-JSON payloads): a known alg, a string kid.
  if (typeof header !== 'object' || header === null || !ALL_ALGORITHMS.includes(header.alg)) return false
  if (header.kid !== undefined && typeof header.kid !== 'string') return false
  let key: Awaited<ReturnType<KeySet['resolve']>>
  try {
    key = await set.resolve(header)
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseError)
    return false
  }
  const input = Buffer.from(`${h}.${p}`, 'latin1')
  const sync = verifySync(header.alg, key.handle, input, signature)
  if (bothPaths) expect(await verifyAsync(header.alg, key.handle, input, signature)).toBe(sync)
  return sync
}

describe.each(examples)('RFC 7520 §%s', (_section, example) => {
  it(`has the published header, payload and key (${example.alg})`, () => {
    const [h, p] = example.jws.split('.')
    expect(JSON.parse(Buffer.from(h as string, 'base64url').toString())).toEqual({
      alg: example.alg,
      kid: KID,
    })
    expect(Buffer.from(p as string, 'base64url').toString('utf8')).toBe(QUOTE)
    expect(example.jwk.kid).toBe(KID)
    expect(example.jwk.alg).toBeUndefined()
  })

  it('verifies at the JWS layer: the key is picked by kid and alg from a set holding both cookbook keys', async () => {
    expect(await verifies(keySet(), example.jws, true)).toBe(true)
  })

  it('rejects every one-character mutation', async () => {
    const set = keySet()
    for (let i = 0; i < example.jws.length; i++) {
      const c = example.jws[i] as string
      if (c === '.') continue
      const mutated = example.jws.slice(0, i) + (c === 'A' ? 'B' : 'A') + example.jws.slice(i + 1)
      expect(await verifies(set, mutated), `position ${i}`).toBe(false)
    }
  })

  it('is refused by the verifier as a JWT: its payload is not a JSON object', async () => {
    expect(() => parseCompactJWS(example.jws, 16_384)).toThrow(GatehouseError)
    const verifier = createVerifier({ issuer: 'joe', audience: null, keys: { keys: [example.jwk] } })
    await expect(verifier.verify(example.jws)).rejects.toMatchObject({ code: 'ERR_JWT_MALFORMED' })
  })
})

describe('RFC 7520: algorithm binding', () => {
  const [rs256, ps384, es512] = examples.map(([, e]) => e) as [Example, Example, Example]

  it('the §4.1 PKCS#1 v1.5 signature does not verify as PS384, nor §4.2 as RS256 (same key)', async () => {
    const swap = (example: Example, other: Example) =>
      `${other.jws.split('.')[0]}.${example.jws.split('.').slice(1).join('.')}`
    expect(await verifies(keySet(), swap(rs256, ps384))).toBe(false)
    expect(await verifies(keySet(), swap(ps384, rs256))).toBe(false)
  })

  it('a key set pinning the RSA key to RS256 refuses the PS384 example', async () => {
    const pinned = KeySet.parse({ keys: [{ ...rs256.jwk, alg: 'RS256' }] })
    expect(await verifies(pinned, rs256.jws)).toBe(true)
    expect(await verifies(pinned, ps384.jws)).toBe(false)
  })

  it('the ES512 example relabelled ES256 finds no key (P-521 key)', async () => {
    const relabelled = `${Buffer.from(JSON.stringify({ alg: 'ES256', kid: KID })).toString('base64url')}.${es512.jws.split('.').slice(1).join('.')}`
    expect(await verifies(keySet(), relabelled)).toBe(false)
  })
})
