/**
 * The `htu` comparison (RFC 9449 §4.3 check 9) after RFC 3986 §6.2.2 syntax-based and §6.2.3
 * scheme-based normalization, table-driven: what is the same URI, and what must stay different.
 */
import { describe, expect, it } from 'vitest'
import { htuMatches, normalizeHtu, withoutQuery } from '../../../src/core/dpop/htu.js'

describe('normalizeHtu', () => {
  it.each<[string, string, string]>([
    [
      '§6.2.2.1 scheme and host to lower case',
      'HTTPS://API.Example.COM/Path',
      'https://api.example.com/Path',
    ],
    [
      '§6.2.2.1 percent-encoding in upper case',
      'https://a.example/x%2fy%c3%a9',
      'https://a.example/x%2Fy%C3%A9',
    ],
    [
      '§6.2.2.2 encoded unreserved characters decoded',
      'https://a.example/%7Euser/%41%2D%5F%2E',
      'https://a.example/~user/A-_.',
    ],
    ['§6.2.2.3 dot segments removed', 'https://a.example/a/./b/../c', 'https://a.example/a/c'],
    ['§6.2.2.3 encoded dot segments too', 'https://a.example/a/%2e%2E/c', 'https://a.example/c'],
    ['§6.2.3 the default port dropped (https)', 'https://a.example:443/x', 'https://a.example/x'],
    ['§6.2.3 the default port dropped (http)', 'http://a.example:80/x', 'http://a.example/x'],
    ['§6.2.3 an empty path is /', 'https://a.example', 'https://a.example/'],
    ['another port kept', 'https://a.example:8443/x', 'https://a.example:8443/x'],
    ['query and fragment removed', 'https://a.example/x?q=1#f', 'https://a.example/x'],
    ['non-ASCII path percent-encoded', 'https://a.example/é', 'https://a.example/%C3%A9'],
    ['an IDN host in its ASCII form', 'https://bücher.example/x', 'https://xn--bcher-kva.example/x'],
    ['an IPv6 host', 'https://[0:0:0:0:0:0:0:1]:8080/x', 'https://[::1]:8080/x'],
  ])('%s', (_rule, input, expected) => {
    expect(normalizeHtu(input)).toBe(expected)
  })

  it.each([
    ['a relative reference', '/x'],
    ['not a URL', 'https://'],
    ['a scheme other than http and https', 'ftp://a.example/x'],
    ['a URN', 'urn:ietf:rfc:9449'],
  ])('%s → undefined', (_why, input) => {
    expect(normalizeHtu(input)).toBeUndefined()
  })
})

describe('htuMatches (htu, request URL)', () => {
  it.each<[string, string, string, boolean]>([
    ['identical', 'https://a.example/x', 'https://a.example/x', true],
    ['the request’s query ignored', 'https://a.example/x', 'https://a.example/x?y=1', true],
    ['the request’s fragment ignored', 'https://a.example/x', 'https://a.example/x#f', true],
    ['equivalent after normalization', 'https://A.example:443/./x', 'https://a.example/x?q', true],
    ['encoded unreserved against plain', 'https://a.example/%78', 'https://a.example/x', true],
    ['hex case', 'https://a.example/a%2fb', 'https://a.example/a%2Fb', true],
    ['an encoded slash is not a slash', 'https://a.example/a%2Fb', 'https://a.example/a/b', false],
    ['a trailing slash matters', 'https://a.example/x/', 'https://a.example/x', false],
    ['path case matters', 'https://a.example/X', 'https://a.example/x', false],
    ['another port', 'https://a.example:444/x', 'https://a.example/x', false],
    ['another scheme', 'http://a.example/x', 'https://a.example/x', false],
    ['another host', 'https://b.example/x', 'https://a.example/x', false],
    ['userinfo is not ignored', 'https://user@a.example/x', 'https://a.example/x', false],
    ['a request URL that is not absolute', '/x', '/x?q', false],
  ])('%s → %s', (_why, htu, url, expected) => {
    expect(htuMatches(htu, url)).toBe(expected)
  })

  it('withoutQuery cuts at the first ? or #', () => {
    expect(withoutQuery('https://a.example/x?q#f')).toBe('https://a.example/x')
    expect(withoutQuery('https://a.example/x#f?q')).toBe('https://a.example/x')
    expect(withoutQuery('https://a.example/x')).toBe('https://a.example/x')
  })
})
