/**
 * Bearer extraction from the places a platform keeps headers (Web Headers, Node's header record with
 * arrays for repeats, any object with get()) and from the query and form body when enabled. The RFC 6750
 * rules themselves, table-driven, are in test/spec/rfc6750.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import { extractBearer, parseAuthorization, readAuthorization } from '../../../src/core/http/bearer.js'

function outcome(run: () => string | undefined): string {
  try {
    const token = run()
    return token === undefined ? 'NONE' : `TOKEN:${token}`
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseError)
    expect((error as GatehouseError).code).toBe('ERR_INVALID_REQUEST')
    expect((error as GatehouseError).status).toBe(400)
    return 'INVALID_REQUEST'
  }
}

describe('readAuthorization', () => {
  it('reads a Web Headers object, case-insensitively', () => {
    expect(readAuthorization(new Headers({ Authorization: 'Bearer abc' }))).toBe('Bearer abc')
  })

  it('reads any object with get()', () => {
    expect(
      readAuthorization({ get: (name: string) => (name === 'authorization' ? 'Bearer xyz' : null) }),
    ).toBe('Bearer xyz')
    expect(readAuthorization({ get: () => null })).toBeUndefined()
  })

  it('reads a Node header record, lower-case or as the sender spelled it', () => {
    expect(readAuthorization({ authorization: 'Bearer abc' })).toBe('Bearer abc')
    expect(readAuthorization({ Authorization: 'Bearer abc' })).toBe('Bearer abc')
    expect(readAuthorization({ AUTHORIZATION: 'Bearer abc' })).toBe('Bearer abc')
    expect(readAuthorization({ host: 'x' })).toBeUndefined()
  })

  it('accepts an array of one value and refuses several Authorization headers', () => {
    expect(readAuthorization({ authorization: ['Bearer abc'] })).toBe('Bearer abc')
    expect(outcome(() => readAuthorization({ authorization: ['Bearer a', 'Bearer b'] }))).toBe(
      'INVALID_REQUEST',
    )
  })

  it('two appended values in Web Headers come joined and are refused once parsed', () => {
    const headers = new Headers()
    headers.append('authorization', 'Bearer a')
    headers.append('authorization', 'Bearer b')
    expect(outcome(() => parseAuthorization(readAuthorization(headers)))).toBe('INVALID_REQUEST')
  })
})

describe('parseAuthorization', () => {
  it('returns undefined (no token, no error) for absent or empty values', () => {
    expect(parseAuthorization(undefined)).toBeUndefined()
    expect(parseAuthorization(null)).toBeUndefined()
    expect(parseAuthorization('')).toBeUndefined()
    expect(parseAuthorization('   ')).toBeUndefined()
  })

  it('a JWT is a b64token', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_'
    expect(parseAuthorization(`Bearer ${jwt}`)).toBe(jwt)
  })
})

describe('extractBearer: locations', () => {
  const jwt = 'aaa.bbb.ccc'

  it('reads only the header by default: a query or body token is ignored', () => {
    const request = {
      headers: {},
      url: `https://api.example.com/x?access_token=${jwt}`,
      body: { access_token: jwt },
    }
    expect(outcome(() => extractBearer(request))).toBe('NONE')
  })

  it.each<[string, string | URL]>([
    ['a full URL', `https://api.example.com/x?a=1&access_token=${jwt}`],
    ['a URL object', new URL(`https://api.example.com/x?access_token=${jwt}`)],
    ['a path with a query', `/x?access_token=${jwt}`],
    ['a search string with its "?"', `?access_token=${jwt}`],
    ['a URL with a fragment after the query', `https://api.example.com/x?access_token=${jwt}#top`],
  ])('reads the query (RFC 6750 §2.3) from %s when enabled', (_why, url) => {
    expect(outcome(() => extractBearer({ headers: {}, url }, ['header', 'query']))).toBe(`TOKEN:${jwt}`)
  })

  it('a URL without a query has no token', () => {
    expect(
      outcome(() => extractBearer({ headers: {}, url: 'https://api.example.com/access_token' }, ['query'])),
    ).toBe('NONE')
  })

  it.each([
    ['a path that looks like a parameter', `/access_token=${jwt}`],
    ['a path segment with "&"', `/files/a&access_token=${jwt}`],
    ['a bare "name=value" text (no "?": a path, not a query)', `access_token=${jwt}`],
    ['a fragment, which is never sent as a query', `/x#access_token=${jwt}`],
    ['a fragment after an empty query', `/x?#access_token=${jwt}`],
  ])('only what follows "?" is the query: %s has no token', (_why, url) => {
    expect(outcome(() => extractBearer({ headers: {}, url }, ['query']))).toBe('NONE')
  })

  it('several access_token parameters are invalid_request', () => {
    const url = `/x?access_token=${jwt}&access_token=${jwt}`
    expect(outcome(() => extractBearer({ headers: {}, url }, ['query']))).toBe('INVALID_REQUEST')
  })

  it('a query token that is not a b64token is invalid_request', () => {
    expect(outcome(() => extractBearer({ headers: {}, url: '/x?access_token=a%20b' }, ['query']))).toBe(
      'INVALID_REQUEST',
    )
  })

  it('reads the form body (RFC 6750 §2.2) when enabled', () => {
    expect(outcome(() => extractBearer({ headers: {}, body: { access_token: jwt } }, ['body']))).toBe(
      `TOKEN:${jwt}`,
    )
    expect(outcome(() => extractBearer({ headers: {}, body: { other: 1 } }, ['body']))).toBe('NONE')
    expect(outcome(() => extractBearer({ headers: {}, body: 'access_token=x' }, ['body']))).toBe('NONE')
    expect(outcome(() => extractBearer({ headers: {}, body: null }, ['body']))).toBe('NONE')
  })

  it('a body access_token that is repeated (an array) or not a string is invalid_request', () => {
    expect(outcome(() => extractBearer({ headers: {}, body: { access_token: [jwt, jwt] } }, ['body']))).toBe(
      'INVALID_REQUEST',
    )
    expect(outcome(() => extractBearer({ headers: {}, body: { access_token: 42 } }, ['body']))).toBe(
      'INVALID_REQUEST',
    )
  })

  it.each<[string, object, ('header' | 'query' | 'body')[]]>([
    [
      'header and query',
      { headers: { authorization: `Bearer ${jwt}` }, url: `/x?access_token=${jwt}` },
      ['header', 'query'],
    ],
    [
      'header and body',
      { headers: { authorization: `Bearer ${jwt}` }, body: { access_token: jwt } },
      ['header', 'body'],
    ],
    [
      'query and body',
      { headers: {}, url: `/x?access_token=${jwt}`, body: { access_token: jwt } },
      ['query', 'body'],
    ],
  ])('a token sent two ways (%s) is invalid_request (RFC 6750 §2)', (_why, request, locations) => {
    expect(outcome(() => extractBearer(request as never, locations))).toBe('INVALID_REQUEST')
  })

  it('reads from Web Headers and a Request-like object', () => {
    const request = new Request('https://api.example.com/x', { headers: { authorization: `bearer ${jwt}` } })
    expect(outcome(() => extractBearer({ headers: request.headers, url: request.url }))).toBe(`TOKEN:${jwt}`)
  })
})
