/**
 * RFC 6750 (OAuth 2.0 Bearer Token Usage), table-driven:
 * - §2.1 the Authorization request header field: `Bearer` (case-insensitive, RFC 7235 §2.1) SP b64token;
 * - §3 the WWW-Authenticate response header: bare `Bearer` without an error code when no token was sent
 *   (§3.1), `error`, `error_description`, `scope`, quoted-string escaping, no CR/LF;
 * - §3.1 error codes and their HTTP status (400 invalid_request, 401 invalid_token, 403
 *   insufficient_scope), plus Gatehouse's 503 for key-set outages.
 */
import { once } from 'node:events'
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeCode, type ErrorCode, errorCodes, GatehouseError } from '../../src/core/errors.js'
import {
  type BearerRequest,
  extractBearer,
  parseAuthorization,
  type TokenLocation,
} from '../../src/core/http/bearer.js'
import { errorResponse, formatChallenge } from '../../src/core/http/challenge.js'
import { createGate, type GateOptions } from '../../src/core/http/gate.js'
import { createVerifier } from '../../src/core/verify/verifier.js'
import { authenticate as expressAuth } from '../../src/express/index.js'
import { withAuth } from '../../src/node/index.js'
import { AUDIENCE, ISSUER, jwksOf, mint, NOW, type TestKey, testKey } from '../helpers/tokens.js'

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'

describe('RFC 6750 §2.1: Authorization request header field', () => {
  // [header value, expected]: a token, NONE (no Bearer credentials: 401 without error code) or INVALID (400).
  const table: [string, string][] = [
    [`Bearer ${JWT}`, JWT],
    [`bearer ${JWT}`, JWT],
    [`BEARER ${JWT}`, JWT],
    [`BeArEr ${JWT}`, JWT],
    [`Bearer    ${JWT}`, JWT],
    [`  Bearer ${JWT}  `, JWT],
    ['Bearer mF_9.B5f-4.1JqM', 'mF_9.B5f-4.1JqM'],
    ['Bearer abc~+/', 'abc~+/'],
    ['Bearer abc==', 'abc=='],
    ['Bearer', 'INVALID'],
    ['Bearer ', 'INVALID'],
    ['Bearer     ', 'INVALID'],
    ['Bearer a b', 'INVALID'],
    [`Bearer ${JWT} ${JWT}`, 'INVALID'],
    [`Bearer ${JWT}, Bearer ${JWT}`, 'INVALID'],
    [`Bearer a,Bearer b`, 'INVALID'],
    [`Basic dXNlcjpwYXNz, Bearer ${JWT}`, 'INVALID'],
    ['Bearer a=b', 'INVALID'],
    ['Bearer =abc', 'INVALID'],
    ['Bearer "abc"', 'INVALID'],
    ['Bearer ab;c', 'INVALID'],
    ['Bearer abc\u00e9', 'INVALID'],
    ['Bearer ab%20c', 'INVALID'],
    ['Basic dXNlcjpwYXNz', 'NONE'],
    ['Digest username="x"', 'NONE'],
    ['Basic a, Digest b', 'NONE'],
    [`Bearer${JWT}`, 'NONE'],
    [`Token ${JWT}`, 'NONE'],
    [JWT, 'NONE'],
    ['', 'NONE'],
  ]

  it.each(table)('%j → %s', (value, expected) => {
    let got: string
    try {
      got = parseAuthorization(value) ?? 'NONE'
    } catch (error) {
      expect(error).toBeInstanceOf(GatehouseError)
      expect(error).toMatchObject({ code: 'ERR_INVALID_REQUEST', status: 400, error: 'invalid_request' })
      got = 'INVALID'
    }
    expect(got).toBe(expected)
  })

  it('never throws anything but a GatehouseError, and never returns a token with a separator (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `Bearer ${s}`),
          fc.string().map((s) => `bearer  ${s},x`),
        ),
        (value) => {
          try {
            const token = parseAuthorization(value)
            if (token !== undefined) expect(token).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/)
          } catch (error) {
            expect(error).toBeInstanceOf(GatehouseError)
          }
        },
      ),
      { numRuns: 1000 },
    )
  })
})

/** RFC 7235 §4.1 challenge with auth-params as quoted strings, as Gatehouse writes them. */
const QUOTED = String.raw`"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"`
const CHALLENGE = new RegExp(`^Bearer(?: [a-z_]+=${QUOTED}(?:, [a-z_]+=${QUOTED})*)?$`)

describe('RFC 6750 §3: the WWW-Authenticate challenge', () => {
  it.each<[string, Parameters<typeof formatChallenge>[0], string]>([
    ['no parameters: a bare Bearer (§3.1, no token sent)', {}, 'Bearer'],
    ['a realm', { realm: 'api' }, 'Bearer realm="api"'],
    [
      'invalid_token with a description',
      { error: 'invalid_token', error_description: 'Token has expired' },
      'Bearer error="invalid_token", error_description="Token has expired"',
    ],
    [
      'insufficient_scope with scope',
      { realm: 'api', error: 'insufficient_scope', scope: 'read:messages write:messages' },
      'Bearer realm="api", error="insufficient_scope", scope="read:messages write:messages"',
    ],
    [
      'a realm with a quote and a backslash, escaped (RFC 7230 §3.2.6)',
      { realm: 'a"b\\c' },
      'Bearer realm="a\\"b\\\\c"',
    ],
    [
      'a realm with CR LF (header injection): the controls are dropped',
      { realm: 'x\r\nSet-Cookie: a=b' },
      'Bearer realm="xSet-Cookie: a=b"',
    ],
    [
      'a description with characters §3 does not allow (", \\, controls, non-ASCII): dropped',
      { error: 'invalid_token', error_description: 'bad "x" \\ é\r\nend' },
      'Bearer error="invalid_token", error_description="bad x  end"',
    ],
    [
      'scope tokens with forbidden characters are dropped (§3 scope-token)',
      { scope: 'ok "bad" also\\bad fine' },
      'Bearer scope="ok fine"',
    ],
    ['a scope with nothing valid left is omitted', { scope: '"' }, 'Bearer'],
  ])('%s', (_why, params, expected) => {
    const header = formatChallenge(params)
    expect(header).toBe(expected)
    expect(header).toMatch(CHALLENGE)
  })

  it('any realm, description and scope give a well-formed header without CR, LF or NUL (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (realm, error, description, scope) => {
        const header = formatChallenge({ realm, error, error_description: description, scope })
        expect(header).not.toMatch(/[\r\n\0]/)
        expect(header).toMatch(/^[\x20-\x7e]*$/)
        expect(header).toMatch(CHALLENGE)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('RFC 6750 §3.1: error responses', () => {
  it('no token (ERR_NO_TOKEN): 401, a bare challenge without error code', () => {
    const response = errorResponse(new GatehouseError('ERR_NO_TOKEN'))
    expect(response.status).toBe(401)
    expect(response.headers['www-authenticate']).toBe('Bearer')
    expect(
      errorResponse(new GatehouseError('ERR_NO_TOKEN'), { realm: 'api' }).headers['www-authenticate'],
    ).toBe('Bearer realm="api"')
    expect(response.body).toEqual({
      error: 'unauthorized',
      error_description: describeCode('ERR_NO_TOKEN'),
      code: 'ERR_NO_TOKEN',
    })
  })

  it('invalid_token: 401 with the error and its description in the challenge', () => {
    const response = errorResponse(new GatehouseError('ERR_JWT_EXPIRED'), { realm: 'api' })
    expect(response.status).toBe(401)
    expect(response.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="Token has expired"',
    )
    expect(response.body).toEqual({
      error: 'invalid_token',
      error_description: 'Token has expired',
      code: 'ERR_JWT_EXPIRED',
    })
  })

  it('invalid_request: 400', () => {
    const response = errorResponse(
      new GatehouseError('ERR_INVALID_REQUEST', 'Token sent in more than one way'),
    )
    expect(response.status).toBe(400)
    expect(response.headers['www-authenticate']).toBe(
      'Bearer error="invalid_request", error_description="Token sent in more than one way"',
    )
    expect(response.body.error).toBe('invalid_request')
  })

  it('insufficient_scope: 403 with scope= and the requirement in the body', () => {
    const required = { scopes: { all: ['read:messages'] } }
    const response = errorResponse(
      new GatehouseError('ERR_POLICY_SCOPE', undefined, { scope: 'read:messages', required }),
    )
    expect(response.status).toBe(403)
    expect(response.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_scope", error_description="Insufficient scope", scope="read:messages"',
    )
    expect(response.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'Insufficient scope',
      code: 'ERR_POLICY_SCOPE',
      required,
    })
  })

  it('503 (key set unavailable): no challenge (the token is not at fault), Retry-After, temporarily_unavailable', () => {
    const response = errorResponse(new GatehouseError('ERR_JWKS_UNAVAILABLE'))
    expect(response.status).toBe(503)
    expect(response.headers['www-authenticate']).toBeUndefined()
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0)
    expect(response.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: describeCode('ERR_JWKS_UNAVAILABLE'),
      code: 'ERR_JWKS_UNAVAILABLE',
    })
  })

  it('a description with CR LF or quotes cannot break the header', () => {
    const response = errorResponse(new GatehouseError('ERR_JWT_CLAIM_INVALID', '"tenant" claim\r\nX-Evil: 1'))
    expect(response.headers['www-authenticate']).not.toMatch(/[\r\n]/)
    expect(response.headers['www-authenticate']).toMatch(CHALLENGE)
  })

  const expectedError: Record<number, string | undefined> = {
    400: 'invalid_request',
    401: 'invalid_token',
    403: 'insufficient_scope',
    503: undefined,
  }
  it.each(Object.keys(errorCodes) as ErrorCode[])(
    '%s has an HTTP status, an RFC 6750 mapping and a response',
    (code) => {
      const info = errorCodes[code]
      expect([400, 401, 403, 503]).toContain(info.status)
      // The RFC 6750 error follows from the status; the one exception is "no token": 401 without error code,
      // and RFC 9449 §7.1's own codes for a faulty DPoP proof or a nonce to use.
      const dpopError = code.startsWith('ERR_DPOP_PROOF_')
        ? 'invalid_dpop_proof'
        : code.startsWith('ERR_DPOP_NONCE_')
          ? 'use_dpop_nonce'
          : undefined
      expect(info.error).toBe(code === 'ERR_NO_TOKEN' ? undefined : (dpopError ?? expectedError[info.status]))
      expect(info.description.length).toBeGreaterThan(0)
      expect(describeCode(code)).toBe(info.description)

      const error = new GatehouseError(code)
      expect(error).toMatchObject({
        code,
        status: info.status,
        error: info.error,
        description: info.description,
        name: 'GatehouseError',
      })
      const response = errorResponse(error)
      expect(response.status).toBe(info.status)
      expect(response.headers['cache-control']).toBe('no-store')
      expect(response.headers['content-type']).toMatch(/^application\/json/)
      expect(response.body.code).toBe(code)
      expect(response.body.error_description).toBe(info.description)
      const challenge = response.headers['www-authenticate']
      if (info.status === 503) {
        expect(challenge).toBeUndefined()
        expect(response.headers['retry-after']).toBeDefined()
      } else {
        expect(challenge).toMatch(CHALLENGE)
        if (info.error === undefined) expect(challenge).toBe('Bearer')
        else expect(challenge).toContain(`error="${info.error}"`)
      }
      // The body is JSON and round-trips.
      expect(JSON.parse(JSON.stringify(response.body))).toEqual(response.body)
    },
  )
})

describe('RFC 6750 §2: one method per request, in strict mode even for locations that are not read', () => {
  const header = { authorization: `Bearer ${JWT}` }
  const outcome = (request: BearerRequest, locations: TokenLocation[], strict: boolean): string => {
    try {
      return extractBearer(request, locations, { strict }) ?? 'NONE'
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_INVALID_REQUEST', status: 400, error: 'invalid_request' })
      return 'INVALID'
    }
  }

  // [why, request, locations read, strict outcome, default outcome]: a token, NONE or INVALID (400).
  const table: [string, BearerRequest, TokenLocation[], string, string][] = [
    [
      'header + query, query not read',
      { headers: header, url: `/x?access_token=${JWT}` },
      ['header'],
      'INVALID',
      JWT,
    ],
    [
      'header + form body, body not read',
      { headers: header, body: { access_token: JWT } },
      ['header'],
      'INVALID',
      JWT,
    ],
    [
      'header + query, query read',
      { headers: header, url: `/x?access_token=${JWT}` },
      ['header', 'query'],
      'INVALID',
      'INVALID',
    ],
    [
      'header + an empty access_token',
      { headers: header, url: '/x?a=1&access_token=' },
      ['header'],
      'INVALID',
      JWT,
    ],
    [
      'header + a percent-encoded name',
      { headers: header, url: `/x?access%5Ftoken=${JWT}` },
      ['header'],
      'INVALID',
      JWT,
    ],
    [
      'header + query, header not read',
      { headers: header, url: `/x?access_token=${JWT}` },
      ['query'],
      'INVALID',
      JWT,
    ],
    ['header only', { headers: header, url: '/x?other=1', body: { other: 1 } }, ['header'], JWT, JWT],
    [
      'header + a path that merely contains the name',
      { headers: header, url: `/access_token=${JWT}` },
      ['header'],
      JWT,
      JWT,
    ],
    [
      'header + access_token in the fragment',
      { headers: header, url: `/x#access_token=${JWT}` },
      ['header'],
      JWT,
      JWT,
    ],
    ['query only', { headers: {}, url: `/x?access_token=${JWT}` }, ['query'], JWT, JWT],
    ['query only, not read', { headers: {}, url: `/x?access_token=${JWT}` }, ['header'], 'NONE', 'NONE'],
    [
      'Basic header + query',
      { headers: { authorization: 'Basic dXNlcjpwYXNz' }, url: `/x?access_token=${JWT}` },
      ['header', 'query'],
      JWT,
      JWT,
    ],
  ]

  it.each(table)('%s', (_why, request, locations, strict, lax) => {
    expect(outcome(request, locations, true)).toBe(strict)
    expect(outcome(request, locations, false)).toBe(lax)
  })

  describe('through the gate and real adapters (127.0.0.1)', () => {
    let key: TestKey
    let token: string
    const servers: Server[] = []
    beforeAll(async () => {
      key = await testKey('RS256')
      token = await mint({}, { typ: 'at+jwt' }, key)
    })
    afterAll(async () => {
      await Promise.all(servers.map((server) => new Promise((done) => server.close(done))))
    })

    const options = (extra: Partial<GateOptions> = {}): GateOptions => ({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: jwksOf(key),
      now: () => NOW * 1000,
      ...extra,
    })

    async function serve(listener: RequestListener): Promise<string> {
      const server = createServer(listener)
      servers.push(server)
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    }

    it('gate: strict: true answers 400 to header + query with tokenLocations ["header"]; the default lets it through', async () => {
      const request = {
        method: 'GET',
        headers: { authorization: `Bearer ${token}` },
        url: `/x?access_token=${token}`,
      }
      await expect(createGate(options({ strict: true })).check(request)).rejects.toMatchObject({
        code: 'ERR_INVALID_REQUEST',
        status: 400,
      })
      expect(await createGate(options()).check(request)).not.toBeNull()
    })

    it('gate: a shared verifier built with strict: true makes the gate strict; the gate may say otherwise', async () => {
      const request = {
        method: 'GET',
        headers: { authorization: `Bearer ${token}` },
        url: `/x?access_token=${token}`,
      }
      const verifier = createVerifier(options({ strict: true }))
      await expect(createGate({ ...options(), verifier }).check(request)).rejects.toMatchObject({
        code: 'ERR_INVALID_REQUEST',
      })
      expect(await createGate({ ...options(), verifier, strict: false }).check(request)).not.toBeNull()
      expect(() => createGate({ ...options(), strict: 'yes' as never })).toThrow(
        /^strict: expected a boolean/,
      )
    })

    it('node:http: header + query is 400 invalid_request in strict mode', async () => {
      const url = await serve(
        withAuth(createGate(options({ strict: true })), (_req, res) => {
          res.end('{"ok":true}')
        }),
      )
      const both = await fetch(`${url}/x?access_token=${token}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      expect(both.status).toBe(400)
      expect(both.headers.get('www-authenticate')).toMatch(/error="invalid_request"/)
      const one = await fetch(`${url}/x?page=2`, { headers: { authorization: `Bearer ${token}` } })
      expect(one.status).toBe(200)
    })

    it('Express: header + form body is 400 invalid_request in strict mode (the body is parsed before the gate)', async () => {
      const app = express()
      app.use(express.urlencoded({ extended: false }))
      app.use(expressAuth(options({ strict: true })))
      app.post('/x', (_req, res) => {
        res.json({ ok: true })
      })
      const url = await serve(app as unknown as RequestListener)
      const post = (body: string) =>
        fetch(`${url}/x`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
          body,
        })
      const both = await post(`access_token=${token}`)
      expect(both.status).toBe(400)
      expect(await both.json()).toMatchObject({ error: 'invalid_request', code: 'ERR_INVALID_REQUEST' })
      expect((await post('message=hello')).status).toBe(200)
    })
  })
})
