/**
 * RFC 9701 (JWT Response for OAuth Token Introspection): the request asks for
 * `application/token-introspection+jwt`; the answer is verified with the configured key store (`typ`,
 * signature, `iss`, `aud` = the client id, `iat`) and its `token_introspection` member read as a plain
 * answer. Signed here with jose, an independent implementation.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import {
  createIntrospector,
  type Introspector,
  type IntrospectorOptions,
  MAX_SIGNED_ANSWER_AGE,
  SIGNED_ANSWER_TYPE,
} from '../../../src/core/introspection/index.js'
import { createLocalKeySet } from '../../../src/core/keys/local.js'
import type { JWK, KeyStore } from '../../../src/core/types.js'
import {
  type Answer,
  type IntrospectionServer,
  rejection,
  startIntrospectionServer,
  testClock,
} from './helpers.js'

const ISSUER = 'https://id.example.com/'
const AUDIENCE = 'https://orders.example.com'
const CLIENT_ID = 'orders-api'
const TOKEN = 'opq_signed_answer_token'

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
let signingKey: PrivateKey
let otherKey: PrivateKey
let keys: KeyStore

const clock = testClock(Date.now())
const seconds = () => Math.floor(clock.now() / 1000)
const servers: IntrospectionServer[] = []
const introspectors: Introspector[] = []

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true })
  signingKey = pair.privateKey
  otherKey = (await generateKeyPair('ES256')).privateKey
  keys = createLocalKeySet({
    keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'as-1', alg: 'ES256' } as JWK],
  })
})

afterEach(async () => {
  for (const introspector of introspectors.splice(0)) introspector.close()
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

const answer = (extra: Record<string, unknown> = {}) => ({
  active: true,
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'user-1',
  scope: 'orders:read',
  exp: seconds() + 600,
  ...extra,
})

interface Signing {
  payload?: Record<string, unknown>
  header?: Record<string, unknown>
  key?: PrivateKey
}

/** A signed answer as the authorization server makes it (RFC 9701 §5), with parts a test may change. */
function signed({ payload = {}, header = {}, key }: Signing = {}): Promise<string> {
  return new SignJWT({
    iss: ISSUER,
    aud: CLIENT_ID,
    iat: seconds(),
    token_introspection: answer(),
    ...payload,
  })
    .setProtectedHeader({ alg: 'ES256', kid: 'as-1', typ: 'token-introspection+jwt', ...header })
    .sign(key ?? signingKey)
}

const asSigned = (jwt: string): Answer => ({ body: jwt, contentType: `${SIGNED_ANSWER_TYPE}; charset=utf-8` })

async function introspect(reply: Answer, options: Partial<IntrospectorOptions> = {}) {
  const server = await startIntrospectionServer(reply)
  servers.push(server)
  const introspector = createIntrospector({
    url: server.url,
    clientId: CLIENT_ID,
    clientSecret: 'correct horse',
    issuer: ISSUER,
    audience: AUDIENCE,
    signedResponse: 'require',
    keys,
    now: clock.now,
    ...options,
  })
  introspectors.push(introspector)
  return { server, result: introspector.introspect(TOKEN) }
}

async function refused(reply: Answer, options: Partial<IntrospectorOptions> = {}): Promise<GatehouseError> {
  const { result } = await introspect(reply, options)
  const error = await rejection(result)
  expect(error).toBeInstanceOf(GatehouseError)
  return error as GatehouseError
}

describe('RFC 9701 §4: the request', () => {
  it('asks for the signed type only with signedResponse "require"', async () => {
    const { server, result } = await introspect(asSigned(await signed()))
    await result
    expect(server.calls[0]!.headers.accept).toBe(SIGNED_ANSWER_TYPE)
  })

  it('prefers it, and still takes plain JSON, with "accept"', async () => {
    const { server, result } = await introspect({ json: answer() }, { signedResponse: 'accept' })
    await expect(result).resolves.toMatchObject({ claims: { sub: 'user-1' } })
    expect(server.calls[0]!.headers.accept).toBe(`${SIGNED_ANSWER_TYPE}, application/json;q=0.5`)
  })
})

describe('RFC 9701 §5: a verified answer', () => {
  it('yields the claims of token_introspection, checked like a plain answer', async () => {
    const { result } = await introspect(asSigned(await signed()))
    const { claims } = await result
    expect(claims).toMatchObject({ active: true, iss: ISSUER, sub: 'user-1', scope: 'orders:read' })
    expect(claims).not.toHaveProperty('token_introspection')
  })

  it('is verified in "accept" mode too, and without signedResponse when keys are given', async () => {
    for (const signedResponse of ['accept', undefined] as const) {
      const { result } = await introspect(asSigned(await signed()), { signedResponse })
      await expect(result).resolves.toMatchObject({ claims: { sub: 'user-1' } })
    }
  })

  it('active: false inside is ERR_TOKEN_INACTIVE', async () => {
    const jwt = await signed({ payload: { token_introspection: { active: false } } })
    expect((await refused(asSigned(jwt))).code).toBe('ERR_TOKEN_INACTIVE')
  })

  it('its inner claims are checked: another audience is a 401', async () => {
    const jwt = await signed({
      payload: { token_introspection: answer({ aud: 'https://billing.example.com' }) },
    })
    expect((await refused(asSigned(jwt))).code).toBe('ERR_JWT_AUDIENCE_INVALID')
  })
})

describe('RFC 9701 §5: refused answers are 503 ERR_INTROSPECTION_INVALID', () => {
  it('a tampered payload (the signature no longer covers it)', async () => {
    const [header, , signature] = (await signed()).split('.')
    const forged = Buffer.from(
      JSON.stringify({
        iss: ISSUER,
        aud: CLIENT_ID,
        iat: seconds(),
        token_introspection: answer({ scope: 'orders:admin' }),
      }),
    ).toString('base64url')
    const error = await refused(asSigned(`${header}.${forged}.${signature}`))
    expect(error).toMatchObject({ code: 'ERR_INTROSPECTION_INVALID', status: 503 })
  })

  it.each<[string, () => Promise<string>]>([
    ['signed by another key', () => signed({ key: otherKey })],
    ['an unknown kid', () => signed({ header: { kid: 'as-2' } })],
    ['typ JWT', () => signed({ header: { typ: 'JWT' } })],
    ['no typ', () => signed({ header: { typ: undefined } })],
    ['another issuer', () => signed({ payload: { iss: 'https://other.example.com/' } })],
    ['another audience', () => signed({ payload: { aud: 'another-client' } })],
    ['no iat', () => signed({ payload: { iat: undefined } })],
    ['iat in the future', () => signed({ payload: { iat: seconds() + 120 } })],
    ['iat too old', () => signed({ payload: { iat: seconds() - MAX_SIGNED_ANSWER_AGE - 10 } })],
    ['exp passed', () => signed({ payload: { exp: seconds() - 60 } })],
    ['no token_introspection', () => signed({ payload: { token_introspection: undefined } })],
    ['token_introspection without active', () => signed({ payload: { token_introspection: { sub: 'x' } } })],
  ])('%s', async (_, make) => {
    const error = await refused(asSigned(await make()))
    expect(error).toMatchObject({ code: 'ERR_INTROSPECTION_INVALID', status: 503 })
  })

  it('an encrypted answer (five parts), and a body that is not a JWS', async () => {
    for (const body of ['a.b.c.d.e', 'not a jwt', '']) {
      expect((await refused(asSigned(body))).code).toBe('ERR_INTROSPECTION_INVALID')
    }
  })

  it('plain JSON when signed answers are required', async () => {
    const error = await refused({ json: answer() })
    expect(error.code).toBe('ERR_INTROSPECTION_INVALID')
    expect((error.cause as Error).message).toContain('not signed')
  })
})

describe('options', () => {
  it('signed answers need keys and an issuer', () => {
    const base = {
      url: 'https://id.example.com/introspect',
      clientId: CLIENT_ID,
      clientSecret: 'x',
      issuer: ISSUER,
      audience: AUDIENCE,
    }
    expect(() => createIntrospector({ ...base, signedResponse: 'accept' })).toThrow('keys: required')
    expect(() => createIntrospector({ ...base, issuer: null, keys })).toThrow('issuer: required with signed')
    expect(() =>
      createIntrospector({ ...base, signedResponse: 'always' as unknown as 'accept', keys }),
    ).toThrow("signedResponse: expected 'accept' or 'require'")
  })
})
