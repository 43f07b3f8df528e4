/**
 * Issuer options, checked once at construction: policy beside the key source, key-set transport only
 * under `keySet` (or where a key store is made), and every option that is not one a TypeError naming it
 * and, when it has a place, saying where it goes. The checks of each option's value are in
 * test/core/verify/verifier.test.ts ("options: each bad option is a TypeError naming it").
 */
import { describe, expect, it } from 'vitest'
import { normalizeIssuer, type VerifierOptions } from '../../../src/core/config/options.js'
import { createGate } from '../../../src/core/http/gate.js'
import { createRemoteKeySet } from '../../../src/core/keys/remote.js'
import { createVerifier } from '../../../src/core/verify/verifier.js'
import { AUDIENCE, ISSUER } from '../../helpers/tokens.js'

const JWKS_URI = 'https://issuer.example.com/jwks'
const good = (): VerifierOptions => ({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI })
const local = (): VerifierOptions => ({ issuer: ISSUER, audience: AUDIENCE, keys: { keys: [] } })

function refusal(options: unknown): TypeError {
  try {
    createVerifier(options as VerifierOptions).close()
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError)
    return error as TypeError
  }
  throw new Error('expected a TypeError')
}

describe('a key-set transport option beside the policy says where it goes now', () => {
  it.each([
    ['timeoutDuration', 1_000],
    ['cooldownDuration', 1_000],
    ['refreshInterval', 60_000],
    ['cacheMaxAge', 60_000],
    ['maxResponseSize', 10_000],
    ['headers', { 'x-api-key': 'k' }],
    ['fetch', fetch],
    ['onEvent', () => {}],
    ['allowInsecureRequests', true],
  ])('%s at the top level', (option, value) => {
    const { message } = refusal({ ...good(), [option]: value })
    expect(message).toMatch(new RegExp(`^${option}: a key set option, not an issuer option`))
    expect(message).toContain(`keySet: { ${option} }`)
    expect(message).toContain(`createRemoteKeySet(url, { ${option} })`)
  })

  it('inside one of several issuers, named with its place', () => {
    const options = {
      audience: AUDIENCE,
      issuers: [good(), { ...local(), issuer: 'https://b.example', timeoutDuration: 1 }],
    }
    expect(refusal(options).message).toMatch(/^issuers\[1\]\.timeoutDuration: a key set option/)
  })

  it('at the top level of several issuers, named at the top level', () => {
    expect(refusal({ audience: AUDIENCE, onEvent: () => {}, issuers: [good()] }).message).toMatch(
      /^onEvent: a key set option/,
    )
  })

  it('through a gate too', () => {
    expect(() => createGate({ ...good(), cooldownDuration: 0 } as never)).toThrow(
      /^cooldownDuration: a key set option/,
    )
  })
})

describe('other options that are not issuer options', () => {
  it.each<[string, () => unknown, RegExp]>([
    [
      'a misspelt option',
      () => ({ ...good(), audiences: AUDIENCE }),
      /^audiences: unknown option \(expected issuer, domain, audience,/,
    ],
    [
      'an unknown option of several issuers',
      () => ({ audience: AUDIENCE, jwks: 'x', issuers: [good()] }),
      /^jwks: unknown option/,
    ],
    [
      'a verifier-wide option inside one issuer',
      () => ({ audience: AUDIENCE, issuers: [{ ...good(), cache: true }] }),
      /^issuers\[0\]\.cache: a verifier-wide option: set it at the top level/,
    ],
    [
      'an issuer that is not an object',
      () => ({ audience: AUDIENCE, issuers: ['https://a.example'] }),
      /^issuers\[0\]: expected an object/,
    ],
  ])('%s', (_why, options, message) => {
    expect(refusal(options()).message).toMatch(message)
  })
})

describe('keySet: the transport of the key set the verifier builds', () => {
  it.each<[string, () => unknown, RegExp]>([
    [
      'not an object',
      () => ({ ...good(), keySet: 5_000 }),
      /^keySet: expected an object of key set options, got number/,
    ],
    [
      'beside keys',
      () => ({ ...local(), keySet: { timeoutDuration: 1_000 } }),
      /^keySet: expected to be left out with keys.*createRemoteKeySet/,
    ],
    [
      'a malformed member',
      () => ({ ...good(), keySet: { cooldownDuration: -1 } }),
      /^keySet\.cooldownDuration: expected a non-negative/,
    ],
    [
      'an unknown member',
      () => ({ ...good(), keySet: { timeout: 1_000 } }),
      /^keySet\.timeout: unknown option/,
    ],
    [
      'its own clock',
      () => ({ ...good(), keySet: { now: Date.now } }),
      /^keySet\.now: .*the verifier’s `now`/,
    ],
    [
      'a malformed member in one of several issuers',
      () => ({
        audience: AUDIENCE,
        issuers: [good(), { ...good(), issuer: 'https://b.example', keySet: { timeoutDuration: 0 } }],
      }),
      /^issuers\[1\]\.keySet\.timeoutDuration: expected a positive/,
    ],
  ])('refused: %s', (_why, options, message) => {
    expect(refusal(options()).message).toMatch(message)
  })

  it('with discovery, the default URL and jwksUri alike', () => {
    for (const source of [{ discovery: true }, { discovery: 'auto' as const }, {}, { jwksUri: JWKS_URI }]) {
      createVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        ...source,
        keySet: { timeoutDuration: 1_000 },
      }).close()
    }
  })

  it('a key store given as keys carries its own transport', () => {
    const keys = createRemoteKeySet(JWKS_URI, { timeoutDuration: 1_000 })
    createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys }).close()
    keys.close()
  })

  it('discovery needs an exact issuer: a matcher names none', () => {
    expect(
      refusal({ issuer: /^https:\/\/a\.example$/, audience: AUDIENCE, discovery: true }).message,
    ).toMatch(/^discovery: expected an exact issuer to discover/)
  })
})

describe('normalizeIssuer', () => {
  it('folds each option into the normalized form, with the defaults of those left out', () => {
    const normalized = normalizeIssuer({ ...good(), keySet: { allowInsecureRequests: false } }, '')
    expect(normalized).toMatchObject({
      issuers: [ISSUER],
      audience: new Set([AUDIENCE]),
      clockTolerance: 5,
      maxTokenAge: undefined,
      typ: null,
      strict: false,
      keys: {
        kind: 'remote',
        url: new URL(JWKS_URI),
        discovery: false,
        options: { allowInsecureRequests: false },
      },
    })
  })

  it('leaves the options it is given unchanged', () => {
    const options = { ...good(), strict: true, claims: { roles: ['roles'] } }
    const copy = structuredClone(options)
    normalizeIssuer(options, '')
    expect(options).toEqual(copy)
  })
})
