/**
 * RFC 6750 (OAuth 2.0 Bearer Token Usage), table-driven:
 * - §2.1 the Authorization request header field: `Bearer` (case-insensitive, RFC 7235 §2.1) SP b64token;
 * - §3 the WWW-Authenticate response header: bare `Bearer` without an error code when no token was sent
 *   (§3.1), `error`, `error_description`, `scope`, quoted-string escaping, no CR/LF;
 * - §3.1 error codes and their HTTP status (400 invalid_request, 401 invalid_token, 403
 *   insufficient_scope), plus Gatehouse's 503 for key-set outages.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseAuthorization } from '../../src/core/bearer.js'
import { errorResponse, formatChallenge } from '../../src/core/challenge.js'
import { describeCode, type ErrorCode, errorCodes, GatehouseError } from '../../src/core/errors.js'

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
      // The RFC 6750 error follows from the status; the one exception is "no token": 401 without error code.
      expect(info.error).toBe(code === 'ERR_NO_TOKEN' ? undefined : expectedError[info.status])
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
