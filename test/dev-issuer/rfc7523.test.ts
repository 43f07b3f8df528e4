/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, RFC 7521 §4.2) at the token, introspection
 * and revocation endpoints of a real dev issuer, with assertions made by jose, by oauth4webapi and by
 * Gatehouse's own introspector; and the `jwks` member of a client.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import {
  type CryptoKey,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createIntrospector } from '../../src/core/introspection/introspector.js'
import { type DevClient, type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

interface KeyPair {
  privateKey: CryptoKey
  publicJwk: JWK
  privateJwk: JWK
}

async function keyPair(alg: 'ES256' | 'RS256' | 'EdDSA'): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { privateKey, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) }
}

let issuer: DevIssuer
let es256: KeyPair
let rs256: KeyPair
let stranger: KeyPair
/** Two registered keys, neither with a `kid`: the issuer tries each that fits the `alg`. */
let KEYED: DevClient
const SECRET_ONLY = {
  clientId: 'secret-only',
  clientSecret: 'secret-only-secret',
  scopes: [],
} satisfies DevClient

beforeAll(async () => {
  ;[es256, rs256, stranger] = await Promise.all([keyPair('ES256'), keyPair('RS256'), keyPair('ES256')])
  const second = await keyPair('ES256') // a second EC key, registered first: the right one is tried too
  KEYED = {
    clientId: 'keyed',
    jwks: { keys: [second.publicJwk, es256.publicJwk, rs256.publicJwk] as Record<string, unknown>[] },
    scopes: ['notes:read', 'notes:write'],
  }
  issuer = await startDevIssuer({ clients: [KEYED, SECRET_ONLY] })
})
afterAll(() => issuer.close())

const now = () => Math.floor(Date.now() / 1000)

/** A client assertion for `keyed`, valid unless `claims` or `header` say otherwise. */
function assertion(
  claims: JWTPayload = {},
  {
    key = es256.privateKey,
    header = {},
  }: { key?: CryptoKey | Uint8Array; header?: Record<string, unknown> } = {},
): Promise<string> {
  const alg =
    (header.alg as string | undefined) ??
    ('algorithm' in key && key.algorithm.name === 'ECDSA' ? 'ES256' : 'RS256')
  return new SignJWT({
    iss: 'keyed',
    sub: 'keyed',
    aud: issuer.issuer,
    iat: now(),
    exp: now() + 60,
    jti: crypto.randomUUID(),
    ...claims,
  })
    .setProtectedHeader({ alg, ...header })
    .sign(key)
}

function postForm(url: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  })
}

function tokenRequest(clientAssertion: string, extra: Record<string, string> = {}) {
  return postForm(issuer.tokenEndpoint, {
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: clientAssertion,
    ...extra,
  })
}

async function expectToken(response: Response): Promise<JWTPayload> {
  const body = (await response.json()) as Record<string, unknown>
  expect(response.status, JSON.stringify(body)).toBe(200)
  return decodeJwt(body.access_token as string)
}

async function expectRefused(response: Response, status: number, error: string, description?: RegExp) {
  const body = (await response.json()) as Record<string, unknown>
  expect(response.status, JSON.stringify(body)).toBe(status)
  expect(response.headers.get('cache-control')).toBe('no-store')
  expect(body.error).toBe(error)
  if (description !== undefined) expect(body.error_description).toMatch(description)
  // An assertion is not Basic: no Basic challenge.
  expect(response.headers.get('www-authenticate')).toBeNull()
}

describe('accepted assertions (RFC 7523 §3)', () => {
  it('aud the issuer identifier: a token for the client, without a client_id parameter', async () => {
    const claims = await expectToken(await tokenRequest(await assertion()))
    expect(claims).toMatchObject({
      sub: 'keyed@clients',
      client_id: 'keyed',
      scope: 'notes:read notes:write',
    })
  })

  it('aud the token endpoint URL, or a list naming it; client_id the same client', async () => {
    await expectToken(await tokenRequest(await assertion({ aud: issuer.tokenEndpoint })))
    await expectToken(
      await tokenRequest(await assertion({ aud: ['https://else.example', issuer.tokenEndpoint] })),
    )
    await expectToken(await tokenRequest(await assertion(), { client_id: 'keyed' }))
  })

  it('signed with any registered key (RS256 here), with or without iat', async () => {
    await expectToken(await tokenRequest(await assertion({}, { key: rs256.privateKey })))
    await expectToken(await tokenRequest(await assertion({ iat: undefined })))
  })

  it('a lifetime of exactly five minutes (the MCP SDK’s default)', async () => {
    await expectToken(await tokenRequest(await assertion({ iat: now(), exp: now() + 300 })))
  })

  it('on the JSON endpoint too, with aud that endpoint’s URL', async () => {
    const response = await fetch(`${issuer.url}/oauth2/m2m/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion({ aud: `${issuer.url}/oauth2/m2m/token` }),
      }),
    })
    await expectToken(response)
  })

  it('oauth4webapi’s PrivateKeyJwt client authentication', async () => {
    const options = { [oauth.allowInsecureRequests]: true }
    const as = await oauth.processDiscoveryResponse(
      new URL(issuer.issuer),
      await oauth.discoveryRequest(new URL(issuer.issuer), { ...options, algorithm: 'oauth2' }),
    )
    const client: oauth.Client = { client_id: 'keyed' }
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.PrivateKeyJwt(es256.privateKey),
      new URLSearchParams({ scope: 'notes:read' }),
      options,
    )
    const result = await oauth.processClientCredentialsResponse(as, client, response)
    expect(decodeJwt(result.access_token)).toMatchObject({ client_id: 'keyed', scope: 'notes:read' })

    // The same client authentication at introspection and revocation.
    const introspected = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(
        as,
        client,
        oauth.PrivateKeyJwt(es256.privateKey),
        result.access_token,
        options,
      ),
    )
    expect(introspected).toMatchObject({ active: true, client_id: 'keyed' })
    const revoked = await oauth.revocationRequest(
      as,
      client,
      oauth.PrivateKeyJwt(rs256.privateKey),
      result.access_token,
      options,
    )
    await expect(oauth.processRevocationResponse(revoked)).resolves.toBeUndefined()
    const after = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(
        as,
        client,
        oauth.PrivateKeyJwt(es256.privateKey),
        result.access_token,
        options,
      ),
    )
    expect(after.active).toBe(false)
  })

  it('Gatehouse’s introspector, whose assertions name the introspection endpoint', async () => {
    const token = await issuer.mint({ scope: 'notes:read' })
    const introspector = createIntrospector({
      url: issuer.introspectionEndpoint,
      clientId: 'keyed',
      privateKey: es256.privateKey,
      alg: 'ES256',
      issuer: issuer.issuer,
      audience: issuer.audience,
    })
    const result = await introspector.introspect(token)
    expect(result.claims.scope).toBe('notes:read')
  })
})

describe('refused assertions', () => {
  it('signed by a key the client did not register', async () => {
    await expectRefused(
      await tokenRequest(await assertion({}, { key: stranger.privateKey })),
      401,
      'invalid_client',
      /signature/,
    )
  })

  it('for another audience', async () => {
    for (const aud of ['https://elsewhere.example', `${issuer.url}/`, issuer.audience]) {
      await expectRefused(await tokenRequest(await assertion({ aud })), 401, 'invalid_client', /"aud"/)
    }
  })

  it('expired, or not yet valid', async () => {
    await expectRefused(
      await tokenRequest(await assertion({ iat: now() - 180, exp: now() - 120 })),
      401,
      'invalid_client',
      /expired/,
    )
    await expectRefused(
      await tokenRequest(await assertion({ nbf: now() + 120 })),
      401,
      'invalid_client',
      /nbf/,
    )
  })

  it('living longer than five minutes, by exp or from iat', async () => {
    await expectRefused(
      await tokenRequest(await assertion({ iat: undefined, exp: now() + 3600 })),
      401,
      'invalid_client',
      /within 300 seconds/,
    )
    await expectRefused(
      await tokenRequest(await assertion({ iat: now() - 250, exp: now() + 100 })),
      401,
      'invalid_client',
      /within 300 seconds/,
    )
    await expectRefused(
      await tokenRequest(await assertion({ iat: now() + 120, exp: now() + 180 })),
      401,
      'invalid_client',
      /"iat"/,
    )
  })

  it('replayed: a jti is spent once, across endpoints, and by one of two racing requests', async () => {
    const once = await assertion()
    await expectToken(await tokenRequest(once))
    await expectRefused(await tokenRequest(once), 401, 'invalid_client', /used before/)
    const token = await issuer.mint()
    await expectRefused(
      await postForm(issuer.introspectionEndpoint, {
        token,
        client_assertion_type: JWT_BEARER,
        client_assertion: once,
      }),
      401,
      'invalid_client',
      /used before/,
    )
    // The same jti in a new assertion is a replay too.
    const jti = decodeJwt(once).jti
    await expectRefused(await tokenRequest(await assertion({ jti })), 401, 'invalid_client', /used before/)

    const raced = await assertion()
    const statuses = (await Promise.all([tokenRequest(raced), tokenRequest(raced)])).map((r) => r.status)
    expect(statuses.sort()).toEqual([200, 401])
  })

  it('a refused assertion does not spend its jti', async () => {
    const jti = crypto.randomUUID()
    await expectRefused(
      await tokenRequest(await assertion({ jti, aud: 'https://elsewhere.example' })),
      401,
      'invalid_client',
    )
    await expectToken(await tokenRequest(await assertion({ jti })))
  })

  it('HS256 with the client’s public key as the secret, and alg none', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(es256.publicJwk))
    await expectRefused(
      await tokenRequest(await assertion({}, { key: secret, header: { alg: 'HS256' } })),
      401,
      'invalid_client',
      /ES256/,
    )
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ iss: 'keyed', sub: 'keyed', aud: issuer.issuer, exp: now() + 60, jti: 'x' }),
    ).toString('base64url')}.`
    await expectRefused(await tokenRequest(unsigned), 401, 'invalid_client')
  })

  it('without jti or exp, with sub not the client, for an unknown client, or not a JWT', async () => {
    await expectRefused(await tokenRequest(await assertion({ jti: undefined })), 401, 'invalid_client', /jti/)
    await expectRefused(await tokenRequest(await assertion({ exp: undefined })), 401, 'invalid_client', /exp/)
    await expectRefused(await tokenRequest(await assertion({ sub: 'someone' })), 401, 'invalid_client', /sub/)
    await expectRefused(
      await tokenRequest(await assertion({ iss: 'nobody', sub: 'nobody' })),
      401,
      'invalid_client',
      /failed/,
    )
    await expectRefused(await tokenRequest('not-a-jwt'), 401, 'invalid_client')
  })

  it('for a client registered with a secret only', async () => {
    await expectRefused(
      await tokenRequest(await assertion({ iss: 'secret-only', sub: 'secret-only' })),
      401,
      'invalid_client',
      /no registered keys/,
    )
  })

  it('a client registered with keys only has no secret to send', async () => {
    for (const secret of ['', 'anything']) {
      const response = await postForm(issuer.tokenEndpoint, {
        grant_type: 'client_credentials',
        client_id: 'keyed',
        client_secret: secret,
      })
      expect(response.status).toBe(401)
      expect(((await response.json()) as { error: string }).error).toBe('invalid_client')
    }
  })

  it('malformed requests: two methods, a missing or unknown assertion type, client_id for another client', async () => {
    const basic = `Basic ${Buffer.from('secret-only:secret-only-secret').toString('base64')}`
    const cases: [Response, RegExp][] = [
      [await tokenRequest(await assertion(), { client_secret: 'x' }), /one client authentication method/],
      [
        await postForm(
          issuer.tokenEndpoint,
          {
            grant_type: 'client_credentials',
            client_assertion_type: JWT_BEARER,
            client_assertion: await assertion(),
          },
          { authorization: basic },
        ),
        /one client authentication method/,
      ],
      [
        await postForm(issuer.tokenEndpoint, {
          grant_type: 'client_credentials',
          client_assertion: await assertion(),
        }),
        /client_assertion_type/,
      ],
      [
        await tokenRequest(await assertion(), {
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
        }),
        /client_assertion_type/,
      ],
      [
        await postForm(issuer.tokenEndpoint, {
          grant_type: 'client_credentials',
          client_assertion_type: JWT_BEARER,
        }),
        /client_assertion parameter is missing/,
      ],
      [await tokenRequest(await assertion(), { client_id: 'secret-only' }), /client_id does not match/],
    ]
    for (const [response, description] of cases) {
      const body = (await response.json()) as Record<string, unknown>
      expect(response.status, JSON.stringify(body)).toBe(400)
      expect(body.error).toBe('invalid_request')
      expect(body.error_description).toMatch(description)
    }
    const repeated = await fetch(issuer.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&client_assertion_type=${encodeURIComponent(JWT_BEARER)}&client_assertion=a&client_assertion=b`,
    })
    await expectRefused(repeated, 400, 'invalid_request', /more than once/)
  })
})

describe('hostile assertions', () => {
  it('any header and claims over a real signature: 400 or 401, never 5xx nor a token', async () => {
    const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const signature = (await assertion()).split('.')[2]!
    const value = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.double(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
    )
    const header = fc.record(
      {
        alg: fc.oneof(fc.constantFrom('ES256', 'RS256', 'EdDSA', 'HS256', 'none'), value),
        kid: value,
        crit: value,
      },
      { requiredKeys: [] },
    )
    const claims = fc.record(
      {
        iss: fc.oneof(fc.constant('keyed'), value),
        sub: value,
        aud: fc.oneof(fc.constant(issuer.issuer), value),
      },
      { requiredKeys: [] },
    )
    const times = fc.record({ exp: value, nbf: value, iat: value, jti: value }, { requiredKeys: [] })
    await fc.assert(
      fc.asyncProperty(
        header,
        claims,
        times,
        fc.boolean(),
        fc.string({ maxLength: 40 }),
        async (h, c, t, jws, junk) => {
          const candidate = jws ? `${segment(h)}.${segment({ ...c, ...t })}.${signature}` : junk
          const response = await tokenRequest(candidate)
          expect([400, 401]).toContain(response.status)
          await response.arrayBuffer()
        },
      ),
      { numRuns: 100 },
    )
  })
})

describe('a client’s jwks', () => {
  const base = { clientId: 'c', scopes: [] }

  it('public RSA, EC or OKP keys only; a client needs a secret or keys', async () => {
    const ed = await keyPair('EdDSA')
    const cases: [unknown, RegExp][] = [
      [{ ...base }, /clients\[0\] needs a clientSecret, a jwks/],
      [{ ...base, jwks: {} }, /clients\[0\]\.jwks must be a JWK Set/],
      [{ ...base, jwks: { keys: [] } }, /clients\[0\]\.jwks must be a JWK Set/],
      [{ ...base, jwks: { keys: [es256.privateJwk] } }, /jwks\.keys\[0\] has the private member "d"/],
      [
        { ...base, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } },
        /jwks\.keys\[0\]\.kty must be one of RSA, EC, OKP/,
      ],
      [{ ...base, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AA' }] } }, /jwks\.keys\[0\]\.y must be/],
      [{ ...base, jwks: { keys: [ed.publicJwk, 'key'] } }, /jwks\.keys\[1\] must be an object/],
    ]
    for (const [client, message] of cases) {
      await expect(startDevIssuer({ clients: [client as DevClient] })).rejects.toThrow(message)
    }
  })

  it('read from clients.json: a client with keys and no secret, EdDSA', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-issuer-'))
    const ed = await keyPair('EdDSA')
    const file = { clients: [{ clientId: 'agent', jwks: { keys: [ed.publicJwk] }, scopes: ['notes:read'] }] }
    await writeFile(join(dir, 'clients.json'), JSON.stringify(file))
    const fromFile = await startDevIssuer({ dataDir: dir })
    try {
      const signed = await new SignJWT({ jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setIssuer('agent')
        .setSubject('agent')
        .setAudience(fromFile.issuer)
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(ed.privateKey)
      const response = await postForm(fromFile.tokenEndpoint, {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: signed,
      })
      expect(await expectToken(response)).toMatchObject({ client_id: 'agent', scope: 'notes:read' })
    } finally {
      await fromFile.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
