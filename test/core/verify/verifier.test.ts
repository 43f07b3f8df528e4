/**
 * createVerifier end to end over local keys (no network): algorithms, token shape, header rules, key
 * selection, claims, options, the thread-pool path and the immutability of what is returned. Each test
 * names the rule it guards; removing the rule makes the test fail.
 */
import { createHmac, generateKeyPairSync, type JsonWebKey, sign as nodeSign } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VerifierOptions } from '../../../src/core/config/options.js'
import { type CheckCause, GatehouseError } from '../../../src/core/errors.js'
import { createGate } from '../../../src/core/http/gate.js'
import { ALL_ALGORITHMS, type Algorithm, type JWK, type KeyStore } from '../../../src/core/types.js'
import { createVerifier } from '../../../src/core/verify/verifier.js'
import { authenticate as expressAuth } from '../../../src/express/index.js'
import { withAuth } from '../../../src/node/index.js'
import { type JwksServer, startJwksServer } from '../../helpers/jwks-server.js'
import {
  AUDIENCE,
  b64url,
  claims,
  codeOf,
  ISSUER,
  jwksOf,
  mint,
  NOW,
  nonCanonicalTail,
  parts,
  rawToDer,
  sign,
  signSegments,
  type TestKey,
  TestKeyStore,
  testKey,
  verifierFor,
} from '../../helpers/tokens.js'

/** 'OK' or the GatehouseError code; anything else thrown fails the test. */
const keys = {} as Record<Algorithm, TestKey>
let rsa: TestKey
let rsa2: TestKey
let attacker: TestKey
beforeAll(async () => {
  for (const alg of ALL_ALGORITHMS) keys[alg] = await testKey(alg)
  rsa = keys.RS256
  rsa2 = await testKey('RS256', 'rsa-second')
  attacker = await testKey('RS256', 'attacker')
})

describe('algorithms (RFC 7518 §3, RFC 8037)', () => {
  it.each(ALL_ALGORITHMS)(
    '%s: a token minted by jose verifies and returns its claims and header',
    async (alg) => {
      const verifier = verifierFor([keys[alg]])
      const token = await mint({ scope: 'read' }, {}, keys[alg])
      const { claims: got, header } = await verifier.verify(token)
      expect(got).toEqual(claims({ scope: 'read' }))
      expect(header).toEqual({ alg, kid: keys[alg].kid })
    },
  )

  it('the algorithms allow-list is enforced before any key lookup', async () => {
    const store = new TestKeyStore(jwksOf(rsa, keys.ES256))
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: store,
      algorithms: ['ES256'],
      now: () => NOW * 1000,
    })
    expect(await codeOf(verifier.verify(await mint({}, {}, keys.ES256)))).toBe('OK')
    const lookups = store.lookups
    expect(await codeOf(verifier.verify(await mint({}, {}, rsa)))).toBe('ERR_JWT_ALG_NOT_ALLOWED')
    expect(store.lookups).toBe(lookups)
  })

  it('an issuer-specific allow-list applies to that issuer only', async () => {
    const verifier = createVerifier({
      audience: AUDIENCE,
      now: () => NOW * 1000,
      issuers: [
        { issuer: ISSUER, keys: jwksOf(rsa), algorithms: ['PS256'] },
        { issuer: 'https://other.example.com', keys: jwksOf(rsa) },
      ],
    })
    expect(await codeOf(verifier.verify(await mint({}, {}, rsa)))).toBe('ERR_JWT_ALG_NOT_ALLOWED')
    expect(await codeOf(verifier.verify(await mint({ iss: 'https://other.example.com' }, {}, rsa)))).toBe(
      'OK',
    )
  })

  it('alg none is rejected, with or without a signature part (RFC 8725 §3.2)', async () => {
    const verifier = verifierFor([rsa])
    const unsecured = `${b64url({ alg: 'none' })}.${b64url(claims())}.`
    expect(await codeOf(verifier.verify(unsecured))).toBe('ERR_JWT_MALFORMED')
    expect(await codeOf(verifier.verify(`${unsecured}c2ln`))).toBe('ERR_JWT_ALG_NOT_ALLOWED')
  })

  it('HS256 is rejected even when the JWKS holds an oct key equal to the RSA public key PEM (key confusion)', async () => {
    const pem = (await import('node:crypto'))
      .createPublicKey({ key: rsa.jwk as JsonWebKey, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' }) as string
    const jwks = {
      keys: [{ ...rsa.jwk }, { kty: 'oct', kid: rsa.kid, k: Buffer.from(pem).toString('base64url') }],
    }
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: jwks as { keys: JWK[] },
      now: () => NOW * 1000,
    })
    const input = `${b64url({ alg: 'HS256', kid: rsa.kid })}.${b64url(claims())}`
    const mac = createHmac('sha256', pem).update(input).digest('base64url')
    expect(await codeOf(verifier.verify(`${input}.${mac}`))).toBe('ERR_JWT_ALG_NOT_ALLOWED')
    // The same attack with the raw bytes of the DER key as the secret.
    const der = createHmac('sha256', Buffer.from(pem)).update(input).digest('base64url')
    expect(await codeOf(verifier.verify(`${input}.${der}`))).toBe('ERR_JWT_ALG_NOT_ALLOWED')
  })

  it('a token relabelled with another algorithm finds no key, or fails its signature', async () => {
    const verifier = verifierFor([rsa, keys.ES256])
    const [, p, s] = parts(await mint({}, {}, rsa))
    expect(await codeOf(verifier.verify(`${b64url({ alg: 'ES256', kid: rsa.kid })}.${p}.${s}`))).toBe(
      'ERR_JWKS_NO_MATCHING_KEY',
    )
    // The JWK pins alg RS256: a PS256 header finds no key.
    const relabelled = await sign({ alg: 'PS256', kid: rsa.kid }, claims(), rsa, 'RS256')
    expect(await codeOf(verifier.verify(relabelled))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    // Without alg on the JWK the key fits PS256, and the PKCS#1 v1.5 signature fails as PSS.
    const { alg: _alg, ...open } = rsa.jwk
    const lenient = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { keys: [open as JWK] },
      now: () => NOW * 1000,
    })
    expect(await codeOf(lenient.verify(relabelled))).toBe('ERR_JWS_SIGNATURE_INVALID')
  })
})

describe('token shape (RFC 7515 §7.1, strict base64url)', () => {
  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { token: 'x' }],
    ['a Buffer', Buffer.from('a.b.c')],
    ['a String object', new String('a.b.c')],
  ])('a non-string input (%s) is ERR_JWT_MALFORMED, never a TypeError', async (_why, input) => {
    expect(await codeOf(verifierFor([rsa]).verify(input as string))).toBe('ERR_JWT_MALFORMED')
  })

  it('a validly signed token with non-canonical signature bits is rejected although Node decodes the same bytes', async () => {
    const token = await mint()
    const [h, p, s] = parts(token)
    const spelled = nonCanonicalTail(s)
    expect(Buffer.from(spelled, 'base64url')).toEqual(Buffer.from(s, 'base64url'))
    const verifier = verifierFor([rsa])
    expect(await codeOf(verifier.verify(token))).toBe('OK')
    expect(await codeOf(verifier.verify(`${h}.${p}.${spelled}`))).toBe('ERR_JWT_MALFORMED')
  })

  it('a header or payload with non-canonical bits is rejected even when signed as spelled', async () => {
    // Signed over the non-canonical spelling itself, so only the encoding rule can reject it.
    const h = b64url({ alg: 'RS256', kid: rsa.kid })
    const p = b64url(claims({ pad: 'x' }))
    const verifier = verifierFor([rsa])
    expect(await codeOf(verifier.verify(signSegments(h, p, rsa)))).toBe('OK')
    const badHeader = h.length % 4 === 0 ? undefined : signSegments(nonCanonicalTail(h), p, rsa)
    const badPayload = p.length % 4 === 0 ? undefined : signSegments(h, nonCanonicalTail(p), rsa)
    expect(badHeader ?? badPayload).toBeDefined()
    if (badHeader) expect(await codeOf(verifier.verify(badHeader))).toBe('ERR_JWT_MALFORMED')
    if (badPayload) expect(await codeOf(verifier.verify(badPayload))).toBe('ERR_JWT_MALFORMED')
  })

  it.each<[string, (token: string) => string]>([
    ['two parts', (t) => t.split('.').slice(0, 2).join('.')],
    ['four parts', (t) => `${t}.${parts(t)[2]}`],
    ['an empty signature', (t) => `${parts(t)[0]}.${parts(t)[1]}.`],
    ['an empty payload', (t) => `${parts(t)[0]}..${parts(t)[2]}`],
    ['padding on the signature', (t) => `${t}==`],
    ['"+" for "-" in the signature', (t) => t.replace(/-([^.]*)$/, '+$1')],
    ['"/" for "_" in the signature', (t) => t.replace(/_([^.]*)$/, '/$1')],
    ['a trailing newline', (t) => `${t}\n`],
    ['a leading space', (t) => ` ${t}`],
    ['a space inside', (t) => `${t.slice(0, 30)} ${t.slice(30)}`],
  ])('%s → ERR_JWT_MALFORMED', async (_why, change) => {
    // A token that contains both "-" and "_" in its signature, so every replacement applies.
    let token = await mint()
    for (let i = 0; !(parts(token)[2].includes('-') && parts(token)[2].includes('_')); i++)
      token = await mint({ n: i })
    const changed = change(token)
    expect(changed).not.toBe(token)
    expect(await codeOf(verifierFor([rsa]).verify(changed))).toBe('ERR_JWT_MALFORMED')
  })

  it.each<[string, string | Uint8Array]>([
    ['not JSON', 'hello'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"claims"'],
    ['invalid UTF-8', Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
    ['JSON behind a BOM', `\ufeff${JSON.stringify(claims())}`],
  ])('a signed payload that is %s → ERR_JWT_MALFORMED', async (_why, payload) => {
    expect(
      await codeOf(verifierFor([rsa]).verify(await sign({ alg: 'RS256', kid: rsa.kid }, payload, rsa))),
    ).toBe('ERR_JWT_MALFORMED')
  })

  it('a signed header behind a BOM → ERR_JWT_MALFORMED', async () => {
    const token = await sign(`\ufeff${JSON.stringify({ alg: 'RS256', kid: rsa.kid })}`, claims(), rsa)
    expect(await codeOf(verifierFor([rsa]).verify(token))).toBe('ERR_JWT_MALFORMED')
  })

  it('maxTokenLength: default 16384; a longer token is rejected before any work', async () => {
    const store = new TestKeyStore(jwksOf(rsa))
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: store,
      now: () => NOW * 1000,
    })
    const big = await mint({ blob: 'x'.repeat(12_500) })
    expect(big.length).toBeGreaterThan(16_384)
    expect(await codeOf(verifier.verify(big))).toBe('ERR_JWT_MALFORMED')
    expect(store.lookups).toBe(0)
    const token = await mint()
    expect(await codeOf(verifierFor([rsa], { maxTokenLength: token.length }).verify(token))).toBe('OK')
    expect(await codeOf(verifierFor([rsa], { maxTokenLength: token.length - 1 }).verify(token))).toBe(
      'ERR_JWT_MALFORMED',
    )
    expect(await codeOf(verifierFor([rsa], { maxTokenLength: 40_000 }).verify(big))).toBe('OK')
  })
})

describe('header rules (RFC 7515 §4.1)', () => {
  it('crit is rejected whatever it names, even on a validly signed token (§4.1.11)', async () => {
    const verifier = verifierFor([rsa])
    for (const crit of [['exp'], ['b64'], ['urn:example:x'], []]) {
      const token = await sign(
        { alg: 'RS256', kid: rsa.kid, crit, b64: true, exp: 1, 'urn:example:x': 1 },
        claims(),
        rsa,
      )
      expect(await codeOf(verifier.verify(token))).toBe('ERR_JWT_HEADER_INVALID')
    }
  })

  it('b64:false (RFC 7797 unencoded payload) is rejected', async () => {
    const verifier = verifierFor([rsa])
    const token = await sign({ alg: 'RS256', kid: rsa.kid, b64: false, crit: ['b64'] }, claims(), rsa)
    expect(await codeOf(verifier.verify(token))).toBe('ERR_JWT_HEADER_INVALID')
    const withoutCrit = await sign({ alg: 'RS256', kid: rsa.kid, b64: false }, claims(), rsa)
    expect(await codeOf(verifier.verify(withoutCrit))).toBe('ERR_JWT_HEADER_INVALID')
  })

  it.each([1, null, true, { id: 'x' }, ['rs256-key']])(
    'a non-string kid (%j) is ERR_JWT_HEADER_INVALID',
    async (kid) => {
      const token = await sign({ alg: 'RS256', kid }, claims(), rsa)
      expect(await codeOf(verifierFor([rsa]).verify(token))).toBe('ERR_JWT_HEADER_INVALID')
    },
  )

  it('an embedded jwk is never used: a token signed by the attacker with its key embedded fails', async () => {
    const verifier = verifierFor([rsa])
    const withLegitKid = await sign({ alg: 'RS256', kid: rsa.kid, jwk: attacker.jwk }, claims(), attacker)
    expect(await codeOf(verifier.verify(withLegitKid))).toBe('ERR_JWS_SIGNATURE_INVALID')
    const withoutKid = await sign({ alg: 'RS256', jwk: attacker.jwk }, claims(), attacker)
    expect(await codeOf(verifier.verify(withoutKid))).toBe('ERR_JWS_SIGNATURE_INVALID')
    const withAttackerKid = await sign(
      { alg: 'RS256', kid: attacker.kid, jwk: attacker.jwk },
      claims(),
      attacker,
    )
    expect(await codeOf(verifier.verify(withAttackerKid))).toBe('ERR_JWKS_NO_MATCHING_KEY')
  })

  it('an x5c chain in the header is never used', async () => {
    const token = await sign(
      { alg: 'RS256', x5c: [Buffer.from('not a certificate').toString('base64')] },
      claims(),
      attacker,
    )
    expect(await codeOf(verifierFor([rsa]).verify(token))).toBe('ERR_JWS_SIGNATURE_INVALID')
  })

  describe('jku and x5u are never fetched', () => {
    let server: JwksServer
    beforeAll(async () => {
      server = await startJwksServer({
        '/attacker-jwks': { json: jwksOf(attacker) },
        '/x5u': { body: 'nothing' },
      })
    })
    afterAll(() => server.close())

    it('a token pointing at the attacker JWKS on a reachable server fails, and the server sees no request', async () => {
      const verifier = verifierFor([rsa])
      for (const member of ['jku', 'x5u']) {
        const url = server.url(member === 'jku' ? '/attacker-jwks' : '/x5u')
        for (const kid of [attacker.kid, rsa.kid, undefined]) {
          const header =
            kid === undefined ? { alg: 'RS256', [member]: url } : { alg: 'RS256', kid, [member]: url }
          const code = await codeOf(verifier.verify(await sign(header, claims(), attacker)))
          expect(code).toBe(kid === attacker.kid ? 'ERR_JWKS_NO_MATCHING_KEY' : 'ERR_JWS_SIGNATURE_INVALID')
        }
      }
      expect(server.requests).toHaveLength(0)
    })
  })
})

describe('key selection through the verifier (RFC 7517 §4)', () => {
  it('picks the key by kid among several', async () => {
    const verifier = verifierFor([rsa, rsa2, keys.ES256])
    expect(await codeOf(verifier.verify(await mint({}, {}, rsa2)))).toBe('OK')
    expect(await codeOf(verifier.verify(await mint({}, {}, rsa)))).toBe('OK')
  })

  it('an unknown kid is ERR_JWKS_NO_MATCHING_KEY', async () => {
    expect(await codeOf(verifierFor([rsa]).verify(await mint({}, { kid: 'unknown' })))).toBe(
      'ERR_JWKS_NO_MATCHING_KEY',
    )
  })

  it('no kid: accepted with one fitting key, ERR_JWKS_MULTIPLE_MATCHING_KEYS with two', async () => {
    const token = await mint({}, { kid: undefined }, rsa)
    expect(await codeOf(verifierFor([rsa, keys.ES256]).verify(token))).toBe('OK')
    expect(await codeOf(verifierFor([rsa, rsa2]).verify(token))).toBe('ERR_JWKS_MULTIPLE_MATCHING_KEYS')
  })

  it('skips keys with use "enc", key_ops without "verify", or another alg', async () => {
    const token = await mint({}, {}, rsa)
    for (const change of [
      { use: 'enc' },
      { key_ops: ['sign'] },
      { key_ops: ['encrypt', 'wrapKey'] },
      { alg: 'RS512' },
      { alg: 'PS256' },
    ]) {
      const verifier = createVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: { keys: [{ ...rsa.jwk, ...change }] },
        now: () => NOW * 1000,
      })
      expect(await codeOf(verifier.verify(token)), JSON.stringify(change)).toBe('ERR_JWKS_NO_MATCHING_KEY')
    }
  })

  it('a key without alg serves every algorithm of its type (RS256 and PS256 with one RSA key)', async () => {
    const { alg: _alg, ...jwk } = rsa.jwk
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { keys: [jwk as JWK] },
      now: () => NOW * 1000,
    })
    for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const) {
      expect(await codeOf(verifier.verify(await sign({ alg, kid: rsa.kid }, claims(), rsa, alg))), alg).toBe(
        'OK',
      )
    }
    expect(
      await codeOf(verifier.verify(await sign({ alg: 'ES256', kid: rsa.kid }, claims(), keys.ES256))),
    ).toBe('ERR_JWKS_NO_MATCHING_KEY')
  })

  it('a P-384 key does not serve an ES256 token, even under the right kid', async () => {
    const p384 = keys.ES384
    const { alg: _alg, ...jwk } = p384.jwk
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { keys: [jwk as JWK] },
      now: () => NOW * 1000,
    })
    const token = await sign({ alg: 'ES256', kid: p384.kid }, claims(), keys.ES256)
    expect(await codeOf(verifier.verify(token))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(await codeOf(verifier.verify(await mint({}, {}, p384)))).toBe('OK')
  })

  it('a 1024-bit RSA key is refused even for a correctly signed token', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const small: TestKey = {
      alg: 'RS256',
      kid: 'small',
      privateKey: pair.privateKey,
      joseKey: undefined as never,
      jwk: { ...(pair.publicKey.export({ format: 'jwk' }) as JWK), kid: 'small' },
    }
    const token = await sign({ alg: 'RS256', kid: 'small' }, claims(), small)
    expect(await codeOf(verifierFor([small]).verify(token))).toBe('ERR_JWKS_NO_MATCHING_KEY')
  })

  it('a JWKS that publishes a private key ("d") is refused', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const leaked = { ...(pair.privateKey.export({ format: 'jwk' }) as JWK), kid: 'leaked' }
    const token = await sign({ alg: 'ES256', kid: 'leaked' }, claims(), {
      ...keys.ES256,
      privateKey: pair.privateKey,
    })
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { keys: [leaked] },
      now: () => NOW * 1000,
    })
    expect(await codeOf(verifier.verify(token))).toBe('ERR_JWKS_NO_MATCHING_KEY')
  })

  it.each<Algorithm>(['ES256', 'ES384', 'ES512'])(
    '%s: a DER-encoded signature is rejected (RFC 7518 §3.4)',
    async (alg) => {
      const token = await mint({}, {}, keys[alg])
      const [h, p, s] = parts(token)
      const der = Buffer.from(rawToDer(Buffer.from(s, 'base64url'))).toString('base64url')
      // The same r and s, honestly DER-signed by node:crypto, are rejected too.
      const nodeDer = nodeSign(`sha${alg.slice(-3)}`, Buffer.from(`${h}.${p}`), {
        key: keys[alg].privateKey,
        dsaEncoding: 'der',
      })
      const verifier = verifierFor([keys[alg]])
      expect(await codeOf(verifier.verify(token))).toBe('OK')
      expect(await codeOf(verifier.verify(`${h}.${p}.${der}`))).toBe('ERR_JWS_SIGNATURE_INVALID')
      expect(await codeOf(verifier.verify(`${h}.${p}.${nodeDer.toString('base64url')}`))).toBe(
        'ERR_JWS_SIGNATURE_INVALID',
      )
    },
  )

  it('a key store failure surfaces as is (503 ERR_JWKS_UNAVAILABLE, not invalid_token)', async () => {
    const unavailable: KeyStore = {
      state: 'unavailable',
      peek: () => undefined,
      get: () => Promise.reject(new GatehouseError('ERR_JWKS_UNAVAILABLE')),
      contains: () => false,
      close: () => {},
    }
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: unavailable,
      now: () => NOW * 1000,
    })
    const error = await verifier.verify(await mint()).catch((e) => e)
    expect(error).toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE', status: 503, error: undefined })
  })
})

describe('signature', () => {
  it.each(['header', 'payload', 'signature'] as const)('a change in the %s is rejected', async (where) => {
    const token = await mint({ role: 'user' }, {}, rsa)
    const [h, p, s] = parts(token)
    const verifier = verifierFor([rsa])
    const changed =
      where === 'header'
        ? `${b64url({ alg: 'RS256', kid: rsa.kid, typ: 'JWT' })}.${p}.${s}`
        : where === 'payload'
          ? `${h}.${b64url(claims({ role: 'admin' }))}.${s}`
          : `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`
    expect(await codeOf(verifier.verify(changed))).toBe('ERR_JWS_SIGNATURE_INVALID')
  })

  it('a token signed by another key under a legitimate kid is rejected', async () => {
    const forged = await sign({ alg: 'RS256', kid: rsa.kid }, claims(), attacker)
    expect(await codeOf(verifierFor([rsa]).verify(forged))).toBe('ERR_JWS_SIGNATURE_INVALID')
  })
})

describe('claims through the verifier (RFC 7519 §4.1, RFC 9068 §4)', () => {
  const at = (seconds: number) => ({ now: () => seconds * 1000 })

  it('iss is compared exactly: a trailing slash difference is rejected, never repaired', async () => {
    const noSlash = ISSUER.replace(/\/$/, '')
    expect(await codeOf(verifierFor([rsa]).verify(await mint({ iss: noSlash })))).toBe(
      'ERR_JWT_ISSUER_INVALID',
    )
    expect(await codeOf(verifierFor([rsa], { issuer: noSlash }).verify(await mint()))).toBe(
      'ERR_JWT_ISSUER_INVALID',
    )
    expect(await codeOf(verifierFor([rsa]).verify(await mint({ iss: ISSUER.toUpperCase() })))).toBe(
      'ERR_JWT_ISSUER_INVALID',
    )
    expect(await codeOf(verifierFor([rsa]).verify(await mint({ iss: `${ISSUER}/` })))).toBe(
      'ERR_JWT_ISSUER_INVALID',
    )
  })

  it('a missing iss is ERR_JWT_CLAIM_MISSING; a non-string iss is ERR_JWT_ISSUER_INVALID', async () => {
    expect(await codeOf(verifierFor([rsa]).verify(await mint({ iss: undefined })))).toBe(
      'ERR_JWT_CLAIM_MISSING',
    )
    expect(
      await codeOf(
        verifierFor([rsa]).verify(await sign({ alg: 'RS256', kid: rsa.kid }, claims({ iss: [ISSUER] }), rsa)),
      ),
    ).toBe('ERR_JWT_ISSUER_INVALID')
  })

  it('an untrusted issuer is rejected before any key lookup', async () => {
    const store = new TestKeyStore(jwksOf(rsa))
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: store,
      now: () => NOW * 1000,
    })
    expect(await codeOf(verifier.verify(await mint({ iss: 'https://evil.example.com/' })))).toBe(
      'ERR_JWT_ISSUER_INVALID',
    )
    expect(store.lookups).toBe(0)
  })

  it('several issuers: each token is checked with its own issuer keys and rules', async () => {
    const issuerA = 'https://a.example.com/'
    const issuerB = 'https://b.example.com'
    const keyB = keys.ES256
    const verifier = createVerifier({
      audience: AUDIENCE,
      now: () => NOW * 1000,
      issuers: [
        { issuer: issuerA, keys: jwksOf(rsa) },
        { issuer: issuerB, keys: jwksOf(keyB), audience: 'b-api' },
      ],
    })
    expect(await codeOf(verifier.verify(await mint({ iss: issuerA }, {}, rsa)))).toBe('OK')
    expect(await codeOf(verifier.verify(await mint({ iss: issuerB, aud: 'b-api' }, {}, keyB)))).toBe('OK')
    // B's audience is its own; A's keys never verify B's tokens and the reverse.
    expect(await codeOf(verifier.verify(await mint({ iss: issuerB }, {}, keyB)))).toBe(
      'ERR_JWT_AUDIENCE_INVALID',
    )
    expect(await codeOf(verifier.verify(await mint({ iss: issuerB, aud: 'b-api' }, {}, rsa)))).toBe(
      'ERR_JWKS_NO_MATCHING_KEY',
    )
    expect(await codeOf(verifier.verify(await mint({ iss: issuerA }, {}, keyB)))).toBe(
      'ERR_JWKS_NO_MATCHING_KEY',
    )
    expect(await codeOf(verifier.verify(await mint({ iss: 'https://c.example.com' }, {}, rsa)))).toBe(
      'ERR_JWT_ISSUER_INVALID',
    )
    expect(verifier.trusts).toHaveLength(2)
    expect(verifier.trustOf({ iss: issuerB })).toBe(verifier.trusts[1])
    expect(verifier.trustOf({ iss: 'https://c.example.com' })).toBeUndefined()
  })

  it('issuer may be a list of exact strings', async () => {
    const verifier = verifierFor([rsa], { issuer: [ISSUER, 'https://second.example.com'] })
    expect(await codeOf(verifier.verify(await mint({ iss: 'https://second.example.com' })))).toBe('OK')
    expect(await codeOf(verifier.verify(await mint({ iss: 'https://third.example.com' })))).toBe(
      'ERR_JWT_ISSUER_INVALID',
    )
  })

  it('domain derives the issuer https://{domain}, without a trailing slash', async () => {
    const verifier = createVerifier({
      domain: 'tenant.example.com',
      audience: AUDIENCE,
      keys: jwksOf(rsa),
      now: () => NOW * 1000,
    })
    expect(await codeOf(verifier.verify(await mint({ iss: 'https://tenant.example.com' })))).toBe('OK')
    expect(await codeOf(verifier.verify(await mint({ iss: 'https://tenant.example.com/' })))).toBe(
      'ERR_JWT_ISSUER_INVALID',
    )
  })

  it.each<[string, unknown, string]>([
    ['a string equal to the audience', AUDIENCE, 'OK'],
    ['an array containing the audience', ['https://x.example', AUDIENCE], 'OK'],
    ['missing', undefined, 'ERR_JWT_CLAIM_MISSING'],
    ['another audience', 'https://other.example', 'ERR_JWT_AUDIENCE_INVALID'],
    ['an array without the audience', ['https://other.example'], 'ERR_JWT_AUDIENCE_INVALID'],
    ['a number', 7, 'ERR_JWT_CLAIM_INVALID'],
  ])('aud %s → %s', async (_why, aud, code) => {
    expect(await codeOf(verifierFor([rsa]).verify(await mint({ aud })))).toBe(code)
  })

  it('audience: null switches the audience check off explicitly', async () => {
    const verifier = verifierFor([rsa], { audience: null })
    expect(await codeOf(verifier.verify(await mint({ aud: undefined })))).toBe('OK')
    expect(await codeOf(verifier.verify(await mint({ aud: 'https://anything.example' })))).toBe('OK')
  })

  it('several audiences: any one of them in aud is enough', async () => {
    const verifier = verifierFor([rsa], { audience: ['https://one.example', 'https://two.example'] })
    expect(await codeOf(verifier.verify(await mint({ aud: 'https://two.example' })))).toBe('OK')
    expect(await codeOf(verifier.verify(await mint({ aud: AUDIENCE })))).toBe('ERR_JWT_AUDIENCE_INVALID')
  })

  it('exp is required and checked with the default tolerance of 5 s', async () => {
    expect(await codeOf(verifierFor([rsa]).verify(await mint({ exp: undefined })))).toBe(
      'ERR_JWT_CLAIM_MISSING',
    )
    const token = await mint({ exp: NOW + 100 })
    expect(await codeOf(verifierFor([rsa], at(NOW + 104)).verify(token))).toBe('OK')
    expect(await codeOf(verifierFor([rsa], at(NOW + 105)).verify(token))).toBe('ERR_JWT_EXPIRED')
    expect(await codeOf(verifierFor([rsa], { ...at(NOW + 105), clockTolerance: 10 }).verify(token))).toBe(
      'OK',
    )
    expect(await codeOf(verifierFor([rsa], { ...at(NOW + 100), clockTolerance: 0 }).verify(token))).toBe(
      'ERR_JWT_EXPIRED',
    )
  })

  it('exp as a string, or as 1e999 (Infinity after JSON.parse), is ERR_JWT_CLAIM_INVALID', async () => {
    expect(await codeOf(verifierFor([rsa]).verify(await mint({ exp: String(NOW + 100) })))).toBe(
      'ERR_JWT_CLAIM_INVALID',
    )
    const text = JSON.stringify(claims({ exp: 0 })).replace('"exp":0', '"exp":1e999')
    expect(
      await codeOf(verifierFor([rsa]).verify(await sign({ alg: 'RS256', kid: rsa.kid }, text, rsa))),
    ).toBe('ERR_JWT_CLAIM_INVALID')
  })

  it('nbf in the future beyond the tolerance is ERR_JWT_NOT_YET_VALID', async () => {
    expect(await codeOf(verifierFor([rsa]).verify(await mint({ nbf: NOW + 5 })))).toBe('OK')
    expect(await codeOf(verifierFor([rsa]).verify(await mint({ nbf: NOW + 6 })))).toBe(
      'ERR_JWT_NOT_YET_VALID',
    )
  })

  it('iat in the future beyond the tolerance is rejected', async () => {
    expect(await codeOf(verifierFor([rsa]).verify(await mint({ iat: NOW + 5 })))).toBe('OK')
    expect(await codeOf(verifierFor([rsa]).verify(await mint({ iat: NOW + 6 })))).toBe(
      'ERR_JWT_CLAIM_INVALID',
    )
  })

  it('maxTokenAge rejects tokens issued too long ago, and requires iat', async () => {
    const verifier = verifierFor([rsa], { maxTokenAge: 300 })
    expect(await codeOf(verifier.verify(await mint({ iat: NOW - 300 })))).toBe('OK')
    expect(await codeOf(verifier.verify(await mint({ iat: NOW - 400 })))).toBe('ERR_JWT_TOO_OLD')
    expect(await codeOf(verifier.verify(await mint({ iat: undefined })))).toBe('ERR_JWT_CLAIM_MISSING')
  })

  it('requiredClaims must all be present', async () => {
    const verifier = verifierFor([rsa], { requiredClaims: ['client_id', 'jti'] })
    expect(await codeOf(verifier.verify(await mint({ client_id: 'c', jti: 'j' })))).toBe('OK')
    expect(await codeOf(verifier.verify(await mint({ client_id: 'c' })))).toBe('ERR_JWT_CLAIM_MISSING')
  })

  it('a non-string sub is ERR_JWT_CLAIM_INVALID', async () => {
    expect(await codeOf(verifierFor([rsa]).verify(await mint({ sub: 42 })))).toBe('ERR_JWT_CLAIM_INVALID')
  })

  it('the validate hook runs last with (claims, header), and its GatehouseError surfaces', async () => {
    const seen: unknown[] = []
    const verifier = verifierFor([rsa], {
      validate: (c, h) => {
        seen.push([c.sub, h.kid])
        if (c.token_use !== 'access')
          throw new GatehouseError('ERR_JWT_NOT_ACCESS_TOKEN', 'Not an access token')
      },
    })
    expect(await codeOf(verifier.verify(await mint({ token_use: 'access' })))).toBe('OK')
    const error = await verifier.verify(await mint({ token_use: 'id' })).catch((e) => e)
    expect(error).toMatchObject({ code: 'ERR_JWT_NOT_ACCESS_TOKEN', description: 'Not an access token' })
    expect(seen).toEqual([
      ['user-1', rsa.kid],
      ['user-1', rsa.kid],
    ])
    // Not called for a token that failed an earlier check.
    expect(await codeOf(verifier.verify(await mint({ exp: NOW - 100 })))).toBe('ERR_JWT_EXPIRED')
    expect(seen).toHaveLength(2)
  })
})

describe('options: each bad option is a TypeError naming it', () => {
  const good = (): VerifierOptions => ({ issuer: ISSUER, audience: AUDIENCE, keys: { keys: [] } })
  const without = (name: keyof VerifierOptions): VerifierOptions => {
    const options = good()
    delete options[name]
    return options
  }

  it.each<[string, () => unknown, RegExp]>([
    ['options missing', () => undefined, /^options:/],
    ['issuer missing', () => without('issuer'), /^issuer:/],
    ['issuer empty', () => ({ ...good(), issuer: '' }), /^issuer:/],
    ['issuer an empty list', () => ({ ...good(), issuer: [] }), /^issuer:/],
    ['issuer a number', () => ({ ...good(), issuer: 42 }), /^issuer:/],
    [
      'issuer a RegExp with the g flag',
      () => ({ ...good(), issuer: /^https:\/\/issuer\.example\.com\/$/g }),
      /^issuer: expected a RegExp without the g or y flag.*\/g"$/,
    ],
    ['issuer a RegExp with the y flag', () => ({ ...good(), issuer: /^https:/y }), /^issuer:.*g or y flag/],
    [
      'issuers[0].issuer a RegExp with the g flag',
      () => ({ audience: AUDIENCE, issuers: [{ ...good(), issuer: /^https:/gi }] }),
      /^issuers\[0\]\.issuer:.*g or y flag/,
    ],
    ['audience missing', () => without('audience'), /^audience:.*null/],
    ['audience undefined (not the same as null)', () => ({ ...good(), audience: undefined }), /^audience:/],
    ['audience empty', () => ({ ...good(), audience: '' }), /^audience:/],
    ['audience an empty list', () => ({ ...good(), audience: [] }), /^audience:/],
    ['algorithms with HS256', () => ({ ...good(), algorithms: ['RS256', 'HS256'] }), /^algorithms:.*HS256/],
    ['algorithms with none', () => ({ ...good(), algorithms: ['none'] }), /^algorithms:/],
    ['algorithms empty', () => ({ ...good(), algorithms: [] }), /^algorithms:/],
    ['algorithms a string', () => ({ ...good(), algorithms: 'RS256' }), /^algorithms:/],
    ['clockTolerance negative', () => ({ ...good(), clockTolerance: -1 }), /^clockTolerance:/],
    ['clockTolerance NaN', () => ({ ...good(), clockTolerance: Number.NaN }), /^clockTolerance:/],
    ['clockTolerance a string', () => ({ ...good(), clockTolerance: '5' }), /^clockTolerance:/],
    ['maxTokenAge negative', () => ({ ...good(), maxTokenAge: -1 }), /^maxTokenAge:/],
    ['requiredClaims with an empty name', () => ({ ...good(), requiredClaims: [''] }), /^requiredClaims:/],
    ['typ empty', () => ({ ...good(), typ: '' }), /^typ:/],
    ['validate not a function', () => ({ ...good(), validate: 'yes' }), /^validate:/],
    [
      'jwksUri over http to a public host',
      () => ({ ...without('keys'), jwksUri: 'http://issuer.example.com/jwks' }),
      /^jwksUri:.*https/,
    ],
    ['jwksUri not a URL', () => ({ ...without('keys'), jwksUri: 'issuer.example.com/jwks' }), /^jwksUri:/],
    ['jwksUri ftp', () => ({ ...without('keys'), jwksUri: 'ftp://issuer.example.com/jwks' }), /^jwksUri:/],
    [
      'an http issuer with the default JWKS URL',
      () => ({ ...without('keys'), issuer: 'http://issuer.example.com' }),
      /^issuer:/,
    ],
    [
      'domain with a scheme',
      () => ({ ...without('issuer'), domain: 'https://tenant.example.com' }),
      /^domain:/,
    ],
    ['domain with a path', () => ({ ...without('issuer'), domain: 'tenant.example.com/x' }), /^domain:/],
    ['domain and issuer both', () => ({ ...good(), domain: 'tenant.example.com' }), /^domain:/],
    ['keys and jwksUri both', () => ({ ...good(), jwksUri: 'https://issuer.example.com/jwks' }), /^keys:/],
    ['keys and discovery both', () => ({ ...good(), discovery: true }), /^keys:/],
    ['keys not a JWK Set', () => ({ ...good(), keys: { kty: 'RSA' } }), /^keys:/],
    ['discovery not a boolean', () => ({ ...without('keys'), discovery: 'yes' }), /^discovery:/],
    ['maxTokenLength too small', () => ({ ...good(), maxTokenLength: 10 }), /^maxTokenLength:/],
    ['maxTokenLength fractional', () => ({ ...good(), maxTokenLength: 1000.5 }), /^maxTokenLength:/],
    ['offload not a boolean', () => ({ ...good(), offload: 'yes' }), /^offload:/],
    ['now not a function', () => ({ ...good(), now: 5 }), /^now:/],
    ['issuers empty', () => ({ audience: AUDIENCE, issuers: [] }), /^issuers:/],
    [
      'issuers with a repeated issuer',
      () => ({ audience: AUDIENCE, issuers: [good(), good()] }),
      /^issuers:/,
    ],
    [
      'issuers[1] without an audience',
      () => ({ issuers: [good(), { issuer: 'https://b.example', keys: { keys: [] } }] }),
      /^issuers\[1\]\.audience:/,
    ],
    ['cache.maxEntries zero', () => ({ ...good(), cache: { maxEntries: 0 } }), /^cache\.maxEntries:/],
  ])('%s', (_why, options, message) => {
    expect(() => createVerifier(options() as VerifierOptions)).toThrow(TypeError)
    expect(() => createVerifier(options() as VerifierOptions)).toThrow(message)
  })

  it.each([
    'http://127.0.0.1:9/jwks',
    'http://localhost:9/jwks',
    'http://[::1]:9/jwks',
    'https://issuer.example.com/jwks',
  ])('accepts jwksUri %s (https, or http on loopback)', (jwksUri) => {
    const { keys: _keys, ...rest } = good()
    createVerifier({ ...rest, jwksUri }).close()
  })

  it('an issuer RegExp without g or y answers the same token the same way every time', async () => {
    const verifier = verifierFor([rsa], { issuer: /^https:\/\/issuer\.example\.com\/$/i })
    const token = await mint()
    for (let i = 0; i < 4; i++) expect(await codeOf(verifier.verify(token))).toBe('OK')
  })

  it('accepts audience: null', () => {
    expect(() => createVerifier({ ...good(), audience: null })).not.toThrow()
  })
})

describe('offload: the thread-pool path gives the same answers', () => {
  it.each(ALL_ALGORITHMS)('%s: valid accepted, tampered rejected', async (alg) => {
    const key = keys[alg]
    const pooled = verifierFor([key], { offload: true })
    const inline = verifierFor([key])
    const token = await mint({}, {}, key)
    const [h, p, s] = parts(token)
    const tampered = `${h}.${b64url(claims({ sub: 'someone-else' }))}.${s}`
    expect(await pooled.verify(token)).toEqual(await inline.verify(token))
    expect(await codeOf(pooled.verify(tampered))).toBe('ERR_JWS_SIGNATURE_INVALID')
    const truncated = Buffer.from(s, 'base64url').subarray(0, -1).toString('base64url')
    expect(await codeOf(pooled.verify(`${h}.${p}.${truncated}`))).toBe('ERR_JWS_SIGNATURE_INVALID')
  })

  it('verifies many tokens concurrently', async () => {
    const pooled = verifierFor([keys.ES256], { offload: true })
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) => mint({ jti: `t${i}` }, {}, keys.ES256)),
    )
    const results = await Promise.all(tokens.map((t) => pooled.verify(t)))
    expect(results.map((r) => r.claims.jti)).toEqual(tokens.map((_, i) => `t${i}`))
  })
})

describe('what verify returns is immutable', () => {
  it('without the cache, each call gets claims of its own', async () => {
    const token = await mint({ realm_access: { roles: ['reader'] } })
    const verifier = verifierFor([rsa])
    const first = await verifier.verify(token)
    ;(first.claims.realm_access as { roles: string[] }).roles.push('admin')
    const second = await verifier.verify(token)
    expect(second.claims).not.toBe(first.claims)
    expect((second.claims.realm_access as { roles: string[] }).roles).toEqual(['reader'])
  })

  it('with the cache, the shared claims are deeply frozen', async () => {
    const token = await mint({ realm_access: { roles: ['reader'] }, groups: [{ name: 'g' }] })
    const { claims: got } = await verifierFor([rsa], { cache: true }).verify(token)
    expect(Object.isFrozen(got)).toBe(true)
    expect(Object.isFrozen(got.realm_access)).toBe(true)
    expect(Object.isFrozen((got.realm_access as { roles: string[] }).roles)).toBe(true)
    expect(Object.isFrozen((got.groups as object[])[0])).toBe(true)
    expect(() => (got.realm_access as { roles: string[] }).roles.push('admin')).toThrow(TypeError)
  })

  it('the header is deeply frozen: it is shared by every token with the same header segment', async () => {
    const header = { alg: 'RS256', kid: rsa.kid, ext: { tenant: 'a' } }
    const verifier = verifierFor([rsa])
    const first = await verifier.verify(await sign(header, claims({ jti: '1' }), rsa))
    expect(Object.isFrozen(first.header)).toBe(true)
    try {
      // One request's handler changes what it was given...
      ;(first.header.ext as { tenant: string }).tenant = 'b'
    } catch {
      // (a TypeError here is the correct outcome: the object is frozen)
    }
    // ...and another request, with another token, must not see it.
    const second = await verifier.verify(await sign(header, claims({ jti: '2' }), rsa))
    expect((second.header.ext as { tenant: string }).tenant).toBe('a')
    expect(Object.isFrozen(first.header.ext)).toBe(true)
  })
})

describe('errors never carry the token', () => {
  it('messages, descriptions and causes of rejected tokens contain no token segment', async () => {
    const verifier = verifierFor([rsa])
    const token = await mint({ sub: 'secret-subject-value' })
    const [h, p, s] = parts(token)
    const bad = [
      `${h}.${p}.${s.slice(0, -2)}AA`,
      `${h}.${p}`,
      `${h}.${p}.${s}=`,
      await mint({ iss: 'https://evil.example.com/', sub: 'secret-subject-value' }),
      await mint({ exp: NOW - 100, sub: 'secret-subject-value' }),
      await mint({ aud: 'https://other-api.example.com', sub: 'secret-subject-value' }),
      await mint({ sub: 'secret-subject-value' }, { kid: 'unknown' }),
      await mint({ sub: 'secret-subject-value' }, {}, attacker),
    ]
    for (const input of bad) {
      const error = (await verifier.verify(input).catch((e) => e)) as GatehouseError
      expect(error).toBeInstanceOf(GatehouseError)
      const text = [
        error.message,
        error.description,
        JSON.stringify(error.cause ?? ''),
        (error.cause as Error | undefined)?.message ?? '',
      ].join(' ')
      // Causes name the checked values (iss, aud, exp, kid), never a segment or an unrelated claim.
      for (const piece of [h, p, s, 'secret-subject-value']) expect(text).not.toContain(piece)
    }
  })
})

/** The GatehouseError a verification rejects with (fails the test on anything else). */
async function refusal(promise: Promise<unknown>): Promise<GatehouseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(GatehouseError)
  return error as GatehouseError
}

describe('causes: each refusal names the values involved, for the server log', () => {
  it("an untrusted issuer: the token's iss and every configured issuer", async () => {
    const verifier = createVerifier({
      issuers: [
        { issuer: ISSUER, keys: jwksOf(rsa) },
        {
          issuer: /^https:\/\/login\.example\.com\/[0-9a-f-]+\/v2\.0$/,
          jwksUri: 'https://login.example.com/keys',
        },
      ],
      audience: AUDIENCE,
      now: () => NOW * 1000,
    })
    const error = await refusal(verifier.verify(await mint({ iss: 'https://evil.example.com/' })))
    expect(error).toMatchObject({
      code: 'ERR_JWT_ISSUER_INVALID',
      description: 'Token issuer is not trusted',
    })
    expect(error.cause).toEqual({
      claim: 'iss',
      received: 'https://evil.example.com/',
      expected: [ISSUER, '/^https:\\/\\/login\\.example\\.com\\/[0-9a-f-]+\\/v2\\.0$/'],
    } satisfies CheckCause)
    verifier.close()
  })

  it('a missing iss names the claim; a long iss is cut for the log', async () => {
    const verifier = verifierFor([rsa])
    expect((await refusal(verifier.verify(await mint({ iss: undefined })))).cause).toEqual({ claim: 'iss' })
    const long = `https://${'a'.repeat(5000)}.example.com/`
    const { cause } = await refusal(verifier.verify(await mint({ iss: long })))
    expect((cause as CheckCause).received).toBe(`${long.slice(0, 200)}…`)
  })

  it("a wrong audience: the token's aud and the expected audiences", async () => {
    const verifier = verifierFor([rsa], { audience: [AUDIENCE, 'https://api2.example.com'] })
    const error = await refusal(
      verifier.verify(await mint({ aud: ['https://a.example', 'https://b.example'] })),
    )
    expect(error).toMatchObject({
      code: 'ERR_JWT_AUDIENCE_INVALID',
      message: 'Token audience is not accepted',
    })
    expect(error.cause).toEqual({
      claim: 'aud',
      received: ['https://a.example', 'https://b.example'],
      expected: [AUDIENCE, 'https://api2.example.com'],
    })
  })

  it('expired, not yet valid, too old: the claim, its value, the clock and the tolerance', async () => {
    const verifier = verifierFor([rsa], { maxTokenAge: 600 })
    expect((await refusal(verifier.verify(await mint({ exp: NOW - 100 })))).cause).toEqual({
      claim: 'exp',
      received: NOW - 100,
      now: NOW,
      clockTolerance: 5,
    })
    expect((await refusal(verifier.verify(await mint({ nbf: NOW + 100 })))).cause).toEqual({
      claim: 'nbf',
      received: NOW + 100,
      now: NOW,
      clockTolerance: 5,
    })
    const tooOld = await refusal(verifier.verify(await mint({ iat: NOW - 1000 })))
    expect(tooOld).toMatchObject({ code: 'ERR_JWT_TOO_OLD' })
    expect(tooOld.cause).toEqual({
      claim: 'iat',
      received: NOW - 1000,
      now: NOW,
      maxTokenAge: 600,
      clockTolerance: 5,
    })
    const future = await refusal(verifier.verify(await mint({ iat: NOW + 100 })))
    expect(future).toMatchObject({
      code: 'ERR_JWT_CLAIM_INVALID',
      description: '"iat" claim is in the future',
    })
    expect(future.cause).toMatchObject({ claim: 'iat', received: NOW + 100, now: NOW })
  })

  it('typ and alg: what the header held and what is accepted', async () => {
    const typ = await refusal(verifierFor([rsa], { typ: 'at+jwt' }).verify(await mint({}, { typ: 'JWT' })))
    expect(typ.cause).toEqual({ header: 'typ', received: 'JWT', expected: ['at+jwt'] })
    const alg = await refusal(verifierFor([rsa], { algorithms: ['ES256', 'PS256'] }).verify(await mint()))
    expect(alg).toMatchObject({
      code: 'ERR_JWT_ALG_NOT_ALLOWED',
      description: 'Token algorithm is not allowed',
    })
    expect(alg.cause).toEqual({ header: 'alg', received: 'RS256', expected: ['ES256', 'PS256'] })
    const none = await refusal(verifierFor([rsa]).verify(`${b64url({ alg: 'none' })}.${b64url(claims())}.AA`))
    expect(none.cause).toMatchObject({ header: 'alg', received: 'none', expected: ALL_ALGORITHMS })
  })

  it('no matching key and a bad signature: the kid and the alg', async () => {
    // The key store's own cause, an Error that names what it looked for.
    const noKey = await refusal(verifierFor([rsa]).verify(await mint({}, { kid: 'unknown' })))
    expect(noKey).toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' })
    expect((noKey.cause as Error).message).toMatch(/kid="unknown".*RS256/)
    const forged = await refusal(
      verifierFor([rsa]).verify(await sign({ alg: 'RS256', kid: rsa.kid }, claims(), attacker)),
    )
    expect(forged.cause).toEqual({ header: 'kid', received: rsa.kid, alg: 'RS256' })
    const pooled = await refusal(
      verifierFor([rsa], { offload: true }).verify(
        await sign({ alg: 'RS256', kid: rsa.kid }, claims(), attacker),
      ),
    )
    expect(pooled.cause).toEqual({ header: 'kid', received: rsa.kid, alg: 'RS256' })
  })

  it('claims of the wrong type: the claim and what it held', async () => {
    const error = await refusal(verifierFor([rsa]).verify(await mint({ sub: 42 })))
    expect(error).toMatchObject({ code: 'ERR_JWT_CLAIM_INVALID', description: '"sub" claim is not a string' })
    expect(error.cause).toEqual({ claim: 'sub', received: 42, reason: 'is not a string' })
    const missing = await refusal(verifierFor([rsa], { requiredClaims: ['jti'] }).verify(await mint()))
    expect(missing.cause).toEqual({ claim: 'jti' })
  })
})

/** The 6000-level header of a real probe: 16 KB, under maxTokenLength (it fails before any signature). */
function deepHeaderToken(): string {
  const header = `{"alg":"RS256","x":${'['.repeat(6000)}${']'.repeat(6000)}}`
  return `${b64url(header)}.${b64url({ iss: ISSUER })}.AA`
}

describe('nesting: no client input is anything but a GatehouseError', () => {
  it('a header nested 6000 levels deep is a 401 ERR_JWT_MALFORMED on every path, never a RangeError', async () => {
    const token = deepHeaderToken()
    expect(token.length).toBeLessThan(16_384)
    for (const options of [{}, { offload: true }, { cache: true }]) {
      const verifier = verifierFor([rsa], options)
      const error = await refusal(verifier.verify(token))
      expect(error).toMatchObject({ code: 'ERR_JWT_MALFORMED', status: 401, error: 'invalid_token' })
      // With offload, verifySync leaves every uncached token to verify(), which answered above.
      if (!('offload' in options)) expect(() => verifier.verifySync(token)).toThrow(GatehouseError)
    }
  })

  it('a payload nested 6000 levels deep, validly signed, with the cache on: 401 too', async () => {
    const payload = `{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${NOW + 60},"x":${'['.repeat(6000)}${']'.repeat(6000)}}`
    const token = await sign({ alg: 'RS256', kid: rsa.kid }, payload, rsa)
    const error = await refusal(verifierFor([rsa], { cache: true }).verify(token))
    expect(error).toMatchObject({ code: 'ERR_JWT_MALFORMED', status: 401 })
  })

  describe('over HTTP (127.0.0.1)', () => {
    const servers: Server[] = []
    afterAll(async () => {
      await Promise.all(servers.map((server) => new Promise((done) => server.close(done))))
    })

    async function serve(listener: RequestListener): Promise<string> {
      // Node's default limit (16 KiB for all headers) would answer 431 before the application sees it;
      // servers behind proxies that allow larger headers are the ones exposed.
      const server = createServer({ maxHeaderSize: 64 * 1024 }, listener)
      servers.push(server)
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`
    }

    const gateOptions = () => ({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: jwksOf(rsa),
      now: () => NOW * 1000,
    })

    it.each([
      [
        'Express',
        () => {
          const app = express()
          app.use(expressAuth(gateOptions()))
          app.get('/api', (_req, res) => {
            res.json({ ok: true })
          })
          return app as unknown as RequestListener
        },
      ],
      [
        'node:http',
        () =>
          withAuth(createGate(gateOptions()), (_req, res) => {
            res.end('{"ok":true}')
          }),
      ],
    ])('%s answers the deep header with 401 invalid_token, not 500', async (_name, listener) => {
      const url = await serve(listener())
      const response = await fetch(url, { headers: { authorization: `Bearer ${deepHeaderToken()}` } })
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
      expect(await response.json()).toMatchObject({ error: 'invalid_token', code: 'ERR_JWT_MALFORMED' })
    })
  })
})
