/**
 * Property tests (fast-check): whatever a client sends, verify rejects with a GatehouseError, never with
 * another exception and never by resolving; and no change to any byte of a valid token's header, payload
 * or signature verifies. Generated JSON reaches from flat to thousands of levels deep (far past
 * MAX_JSON_DEPTH), thousands of members wide, and strings as long as a token may be. Runs are bounded so
 * the file stays within a few seconds.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../src/core/errors.js'
import type { Algorithm } from '../../src/core/types.js'
import { MAX_JSON_DEPTH } from '../../src/core/verify/jws.js'
import { PENDING, type Verifier } from '../../src/core/verify/verifier.js'
import { b64url, claims, mint, parts, sign, type TestKey, testKey, verifierFor } from '../helpers/tokens.js'

const ALGS: Algorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA']
const keys: TestKey[] = []
const tokens: string[] = []
/** The same policy three ways: inline crypto, the thread pool, and the verified-token cache (pre-warmed). */
const verifiers: Record<string, Verifier> = {}

beforeAll(async () => {
  for (const alg of ALGS) keys.push(await testKey(alg))
  for (const key of keys)
    tokens.push(await mint({ scope: 'read write', nested: { a: [1, 2] } }, { typ: 'at+jwt' }, key))
  verifiers.inline = verifierFor(keys)
  verifiers.offload = verifierFor(keys, { offload: true })
  verifiers.cached = verifierFor(keys, { cache: true })
  for (const token of tokens) {
    for (const verifier of Object.values(verifiers)) await verifier.verify(token)
  }
})

/** Resolves 'accepted' or the GatehouseError code; any other exception fails the property. */
async function outcome(verifier: Verifier, input: string): Promise<string> {
  try {
    await verifier.verify(input)
    return 'accepted'
  } catch (error) {
    if (!(error instanceof GatehouseError)) {
      throw new Error(`not a GatehouseError: ${(error as Error)?.name}: ${(error as Error)?.message}`)
    }
    return error.code
  }
}

/** The same through verifySync: a token, PENDING (only verify can answer) or a GatehouseError code. */
function outcomeSync(verifier: Verifier, input: string): string {
  try {
    return verifier.verifySync(input) === PENDING ? 'later' : 'accepted'
  } catch (error) {
    if (!(error instanceof GatehouseError)) {
      throw new Error(`not a GatehouseError: ${(error as Error)?.name}: ${(error as Error)?.message}`)
    }
    return error.code
  }
}

async function rejectedEverywhere(input: string): Promise<void> {
  for (const [name, verifier] of Object.entries(verifiers)) {
    expect(await outcome(verifier, input), `${name}: ${JSON.stringify(input.slice(0, 80))}`).not.toBe(
      'accepted',
    )
  }
}

const base64urlChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')
const anyChar = fc.oneof(
  base64urlChar,
  fc.constantFrom('.', '=', '+', '/', ' ', '\n', '\t', '\0', 'é', '\u{1F600}', '\ud800'),
)
/**
 * JSON text nested `depth` levels: arrays and objects in a generated pattern, around a leaf. Built as
 * text, since a value this deep could not even be stringified.
 */
const deepJson = fc
  .record({
    depth: fc.oneof(
      fc.integer({ min: 0, max: MAX_JSON_DEPTH + 2 }),
      fc.integer({ min: MAX_JSON_DEPTH - 2, max: 7_000 }),
    ),
    pattern: fc.array(fc.constantFrom('[', '{'), { minLength: 1, maxLength: 6 }),
    leaf: fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null)),
  })
  .map(({ depth, pattern, leaf }) => {
    let text = JSON.stringify(leaf) ?? 'null'
    for (let i = 0; i < depth; i++) text = pattern[i % pattern.length] === '[' ? `[${text}]` : `{"k":${text}}`
    // Levels below the member; the top-level object adds one.
    return { text, depth }
  })

/** Wide: up to thousands of members or items, and strings up to about the longest token accepted. */
const wideJson = fc.oneof(
  fc
    .tuple(fc.integer({ min: 1, max: 3_000 }), fc.jsonValue({ maxDepth: 0 }))
    .map(([n, item]) => JSON.stringify(Array.from({ length: n }, () => item))),
  fc
    .integer({ min: 1, max: 1_500 })
    .map((n) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, [i]])))),
  fc
    .tuple(fc.integer({ min: 1, max: 11_000 }), fc.constantFrom('a', '"', '\\', 'é', '[', '{', '\u2028'))
    .map(([n, c]) => JSON.stringify(c.repeat(n))),
)

const segment = fc.oneof(
  fc.string({ unit: base64urlChar, maxLength: 60 }),
  deepJson.map(({ text }) => b64url(`{"alg":"RS256","x":${text}}`)),
  wideJson.map((text) => b64url(`{"iss":"x","x":${text}}`)),
  fc.string({ unit: anyChar, maxLength: 30 }),
  fc.jsonValue({ maxDepth: 2 }).map((value) => b64url(JSON.stringify(value) ?? 'null')),
  fc
    .dictionary(
      fc.constantFrom('alg', 'kid', 'typ', 'crit', 'iss', 'exp', 'aud', 'b64', 'jwk'),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map((o) => b64url(o)),
)

describe('random input', () => {
  it('arbitrary strings are rejected with a GatehouseError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: anyChar, maxLength: 200 })),
        rejectedEverywhere,
      ),
      { numRuns: 300 },
    )
  })

  it('arbitrary three-part strings (and two-, four-part ones) are rejected with a GatehouseError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 2, maxLength: 4 }), async (segments) =>
        rejectedEverywhere(segments.join('.')),
      ),
      { numRuns: 300 },
    )
  })

  it('validly signed tokens with arbitrary headers and payloads resolve or reject with a GatehouseError, never crash', async () => {
    const key = keys[0] as TestKey
    const header = fc.record(
      {
        alg: fc.constantFrom('RS256', 'none', 'HS256', 42),
        kid: fc.oneof(fc.constant(key.kid), fc.jsonValue({ maxDepth: 1 })),
        typ: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: ['alg'] },
    )
    const claimValue = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(1e308, -0, 1.5, Number.MAX_SAFE_INTEGER),
    )
    const payload = fc.record(
      {
        iss: fc.oneof(fc.constant(claims().iss), claimValue),
        aud: fc.oneof(fc.constant(claims().aud), fc.array(fc.string()), claimValue),
        exp: fc.oneof(fc.constant(claims().exp), claimValue),
        nbf: claimValue,
        iat: claimValue,
        sub: claimValue,
        scope: claimValue,
        constructor: claimValue,
      },
      { requiredKeys: [] },
    )
    // A "__proto__" member must stay data: JSON.parse makes it an own property, whatever code reads it.
    const proto = fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined })
    await fc.assert(
      fc.asyncProperty(header, payload, proto, async (h, p, protoValue) => {
        const json = JSON.stringify(p)
        const text =
          protoValue === undefined
            ? json
            : `{"__proto__":${JSON.stringify(protoValue)}${json === '{}' ? '' : ','}${json.slice(1)}`
        const token = await sign(h as Record<string, unknown>, text, key)
        for (const verifier of Object.values(verifiers)) await outcome(verifier, token)
      }),
      { numRuns: 200 },
    )
  })
})

describe('deep and wide JSON', () => {
  const key = () => keys[0] as TestKey
  const MAX_TOKEN_LENGTH = 16_384

  it('a member nested past MAX_JSON_DEPTH, in the header or the payload, is ERR_JWT_MALFORMED on every path', async () => {
    await fc.assert(
      fc.asyncProperty(deepJson, fc.boolean(), async ({ text, depth }, inHeader) => {
        const header = inHeader
          ? `{"alg":"RS256","kid":"${key().kid}","x":${text}}`
          : { alg: 'RS256', kid: key().kid }
        const payload = inHeader ? claims() : `${JSON.stringify(claims()).slice(0, -1)},"x":${text}}`
        const token = await sign(header, payload, key())
        const tooDeep = depth + 1 > MAX_JSON_DEPTH
        for (const [name, verifier] of Object.entries(verifiers)) {
          const got = await outcome(verifier, token)
          outcomeSync(verifier, token)
          if (tooDeep || token.length > MAX_TOKEN_LENGTH) expect(got, name).toBe('ERR_JWT_MALFORMED')
          else expect(got, name).toBe('accepted')
        }
      }),
      { numRuns: 60 },
    )
  })

  it('wide members and long strings, signed, resolve or reject with a GatehouseError only', async () => {
    await fc.assert(
      fc.asyncProperty(wideJson, fc.boolean(), async (text, inHeader) => {
        const header = inHeader
          ? `{"alg":"RS256","kid":"${key().kid}","x":${text}}`
          : { alg: 'RS256', kid: key().kid }
        const payload = inHeader ? claims() : `${JSON.stringify(claims()).slice(0, -1)},"x":${text}}`
        const token = await sign(header, payload, key())
        for (const [name, verifier] of Object.entries(verifiers)) {
          const got = await outcome(verifier, token)
          outcomeSync(verifier, token)
          expect(got, name).toBe(token.length > MAX_TOKEN_LENGTH ? 'ERR_JWT_MALFORMED' : 'accepted')
        }
      }),
      { numRuns: 60 },
    )
  })

  it('deep or wide claim values of every registered claim never escape as another exception', async () => {
    const value = fc.oneof(
      deepJson.map(({ text }) => text),
      wideJson,
    )
    const name = fc.constantFrom(
      'iss',
      'aud',
      'exp',
      'nbf',
      'iat',
      'sub',
      'scope',
      'scp',
      'roles',
      'realm_access',
    )
    await fc.assert(
      fc.asyncProperty(name, value, async (claim, text) => {
        const rest = JSON.stringify(claims({ [claim]: undefined }))
        const token = await sign(
          { alg: 'RS256', kid: key().kid },
          `${rest.slice(0, -1)},"${claim}":${text}}`,
          key(),
        )
        for (const verifier of Object.values(verifiers)) {
          await outcome(verifier, token)
          outcomeSync(verifier, token)
        }
      }),
      { numRuns: 60 },
    )
  })
})

/** A change to a valid token: substitute, insert or delete a character, or truncate. */
const mutation = fc.record({
  token: fc.nat(ALGS.length - 1),
  kind: fc.constantFrom('substitute', 'insert', 'delete', 'truncate'),
  at: fc.nat(),
  char: anyChar,
})

function apply(m: { token: number; kind: string; at: number; char: string }): {
  original: string
  mutated: string
} {
  const original = tokens[m.token] as string
  const i = m.at % original.length
  const mutated =
    m.kind === 'substitute'
      ? original.slice(0, i) + m.char + original.slice(i + 1)
      : m.kind === 'insert'
        ? original.slice(0, i) + m.char + original.slice(i)
        : m.kind === 'delete'
          ? original.slice(0, i) + original.slice(i + 1)
          : original.slice(0, i)
  return { original, mutated }
}

describe('mutated tokens', () => {
  it('every verifier accepts the originals (control)', async () => {
    for (const token of tokens)
      for (const verifier of Object.values(verifiers)) expect(await outcome(verifier, token)).toBe('accepted')
  })

  it('any character substituted, inserted, deleted, or a truncation: rejected (no-ops excepted)', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const { original, mutated } = apply(m)
        fc.pre(mutated !== original)
        await rejectedEverywhere(mutated)
      }),
      { numRuns: 400 },
    )
  })

  it('changing any bit of any decoded byte of the header, payload or signature never verifies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(ALGS.length - 1),
        fc.nat(2),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (t, part, at, bit) => {
          const segments = parts(tokens[t] as string)
          const bytes = Buffer.from(segments[part] as string, 'base64url')
          const i = at % bytes.length
          bytes[i] = (bytes[i] as number) ^ (1 << bit)
          segments[part] = bytes.toString('base64url')
          await rejectedEverywhere(segments.join('.'))
        },
      ),
      { numRuns: 400 },
    )
  })

  it('swapping segments between valid tokens never verifies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(ALGS.length - 1), fc.nat(ALGS.length - 1), fc.nat(2), async (a, b, part) => {
        fc.pre(a !== b)
        const target = parts(tokens[a] as string)
        target[part] = parts(tokens[b] as string)[part] as string
        // The payloads are equal (same claims): swapping them is a no-op, not a mutation.
        fc.pre(target.join('.') !== tokens[a])
        await rejectedEverywhere(target.join('.'))
      }),
      { numRuns: 50 },
    )
  })
})
