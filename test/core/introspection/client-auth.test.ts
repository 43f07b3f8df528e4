/**
 * Client authentication of the introspection request, as the endpoint sees it: RFC 6749 §2.3.1
 * (`client_secret_basic` with form-encoded id and secret, `client_secret_post`) and RFC 7523 §2.2, §3
 * (`private_key_jwt`: the assertion verified here with jose, an independent implementation).
 */
import { generateKeyPairSync } from 'node:crypto'
import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ASSERTION_LIFETIME,
  createIntrospector,
  type Introspector,
  type IntrospectorOptions,
} from '../../../src/core/introspection/index.js'
import type { JWK } from '../../../src/core/types.js'
import { type IntrospectionServer, startIntrospectionServer, testClock } from './helpers.js'

const ISSUER = 'https://id.example.com/'
const TOKEN = 'opq_client_auth_token'

const servers: IntrospectionServer[] = []
const introspectors: Introspector[] = []
const clock = testClock(Date.now())

afterEach(async () => {
  for (const introspector of introspectors.splice(0)) introspector.close()
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function introspectWith(options: Partial<IntrospectorOptions>): Promise<IntrospectionServer> {
  const server = await startIntrospectionServer({
    json: { active: true, iss: ISSUER, exp: Math.floor(clock.now() / 1000) + 600 },
  })
  servers.push(server)
  const introspector = createIntrospector({
    url: server.url,
    clientId: 'orders-api',
    issuer: ISSUER,
    audience: null,
    now: clock.now,
    cache: { maxAge: 0 },
    ...options,
  } as IntrospectorOptions)
  introspectors.push(introspector)
  await introspector.introspect(TOKEN)
  return server
}

/** The id and secret of a Basic header, form-decoded (RFC 6749 §2.3.1). */
function readBasic(header: string | undefined): [string, string] {
  expect(header).toMatch(/^Basic [A-Za-z0-9+/]+=*$/)
  const decoded = Buffer.from(header!.slice(6), 'base64').toString('latin1')
  const colon = decoded.indexOf(':')
  const formDecode = (part: string) => new URLSearchParams(`x=${part}`).get('x')!
  return [formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1))]
}

describe('client_secret_basic (RFC 6749 §2.3.1)', () => {
  it('sends id and secret in the Authorization header, each form-encoded, and neither in the form', async () => {
    const server = await introspectWith({ clientSecret: 'correct horse' })
    const [call] = server.calls
    expect(readBasic(call!.headers.authorization)).toEqual(['orders-api', 'correct horse'])
    expect(call!.form.has('client_secret')).toBe(false)
    expect(call!.form.has('client_id')).toBe(false)
  })

  it('form-encodes a colon, reserved characters and non-ASCII before base64', async () => {
    const clientId = 'api:orders/v1 é'
    const clientSecret = 'p@ss:wörd+&=%~*'
    const server = await introspectWith({ clientId, clientSecret })
    const header = server.calls[0]!.headers.authorization!
    const raw = Buffer.from(header.slice(6), 'base64').toString('latin1')
    // One colon only: the one between the two encoded parts.
    expect(raw.split(':')).toHaveLength(2)
    expect(raw).toBe('api%3Aorders%2Fv1+%C3%A9:p%40ss%3Aw%C3%B6rd%2B%26%3D%25%7E*')
    expect(readBasic(header)).toEqual([clientId, clientSecret])
  })
})

describe('client_secret_post (RFC 6749 §2.3.1)', () => {
  it('sends client_id and client_secret in the form, and no Authorization header', async () => {
    const server = await introspectWith({ clientSecret: 's3cret & more', authMethod: 'client_secret_post' })
    const [call] = server.calls
    expect(call!.headers.authorization).toBeUndefined()
    expect(call!.form.get('client_id')).toBe('orders-api')
    expect(call!.form.get('client_secret')).toBe('s3cret & more')
    expect(call!.form.get('token')).toBe(TOKEN)
  })
})

describe('private_key_jwt (RFC 7523)', () => {
  async function checkAssertion(
    server: IntrospectionServer,
    publicKey: Parameters<typeof jwtVerify>[1],
    audience: string,
  ) {
    const [call] = server.calls
    expect(call!.headers.authorization).toBeUndefined()
    expect(call!.form.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    )
    expect(call!.form.get('client_id')).toBe('orders-api')
    const assertion = call!.form.get('client_assertion')!
    const { payload } = await jwtVerify(assertion, publicKey, {
      issuer: 'orders-api',
      subject: 'orders-api',
      audience,
      currentDate: new Date(clock.now()),
    })
    expect(typeof payload.jti).toBe('string')
    expect(payload.jti!.length).toBeGreaterThanOrEqual(22)
    expect(payload.exp! - payload.iat!).toBe(ASSERTION_LIFETIME)
    expect(payload.iat).toBe(Math.floor(clock.now() / 1000))
    return { assertion, payload }
  }

  it('signs with a private JWK, its kid in the header; aud is the introspection URL', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await exportJWK(privateKey)), kid: 'rs-key-1', alg: 'ES256' } as JWK
    const server = await introspectWith({ privateKey: jwk })
    const { assertion } = await checkAssertion(server, publicKey, server.url)
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'ES256', kid: 'rs-key-1' })
  })

  it('signs with a Node KeyObject and the alg option, for the configured assertionAudience', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const server = await introspectWith({ privateKey, alg: 'PS256', assertionAudience: ISSUER })
    const { assertion } = await checkAssertion(server, publicKey, ISSUER)
    expect(decodeProtectedHeader(assertion).alg).toBe('PS256')
  })

  it('signs with a WebCrypto CryptoKey (Ed25519)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const server = await introspectWith({ privateKey, alg: 'EdDSA' })
    await checkAssertion(server, publicKey, server.url)
  })

  it('makes a new assertion, with a new jti, for every call', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256' } as JWK
    const server = await introspectWith({ privateKey: jwk })
    await introspectors[0]!.introspect(`${TOKEN}-2`)
    expect(server.calls).toHaveLength(2)
    const jtis = await Promise.all(
      server.calls.map(async (call) => {
        const { payload } = await jwtVerify(call.form.get('client_assertion')!, publicKey, {
          currentDate: new Date(clock.now()),
        })
        return payload.jti
      }),
    )
    expect(new Set(jtis).size).toBe(2)
  })

  it('a key the runtime cannot import is a 503, not a crash', async () => {
    const server = await startIntrospectionServer({ json: { active: true, iss: ISSUER } })
    servers.push(server)
    const broken = { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA' } as JWK
    const introspector = createIntrospector({
      url: server.url,
      clientId: 'orders-api',
      issuer: ISSUER,
      audience: null,
      privateKey: broken,
      alg: 'ES256',
    })
    introspectors.push(introspector)
    await expect(introspector.introspect(TOKEN)).rejects.toMatchObject({
      code: 'ERR_INTROSPECTION_UNAVAILABLE',
      status: 503,
    })
    expect(server.calls).toHaveLength(0)
  })
})
