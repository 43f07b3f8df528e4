/**
 * Strict base64url (RFC 7515 §2, RFC 4648 §5): one accepted spelling per byte string. Node's own decoder
 * is the foil: it accepts everything rejected here and returns the same bytes.
 */
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { decodeBase64url, encodeBase64url, isCanonicalBase64url } from '../../../src/core/lib/base64url.js'

describe('isCanonicalBase64url / decodeBase64url', () => {
  it.each([
    ['', []],
    ['AA', [0]],
    ['AAA', [0, 0]],
    ['AAAA', [0, 0, 0]],
    ['_-8', [0xff, 0xef]],
    ['-_-_', [0xfb, 0xff, 0xbf]],
  ])('accepts %j', (segment, bytes) => {
    expect(isCanonicalBase64url(segment)).toBe(true)
    expect([...(decodeBase64url(segment) as Uint8Array)]).toEqual(bytes)
  })

  it.each([
    ['padding', 'AA=='],
    ['short padding', 'AAA='],
    ['a lone "="', '='],
    ['"+" (base64, not base64url)', 'A+A'],
    ['"/" (base64, not base64url)', 'A/A'],
    ['a space', 'AA AA'],
    ['a trailing newline', 'AAAA\n'],
    ['a leading tab', '\tAAAA'],
    ['CR LF inside', 'AA\r\nAA'],
    ['length % 4 == 1', 'AAAAA'],
    ['a single character', 'A'],
    ['a non-ASCII letter', 'AAé'],
    ['a dot', 'AA.A'],
    ['non-zero unused bits (length % 4 == 2)', 'AB'],
    ['non-zero unused bits (length % 4 == 3)', 'AAB'],
    ['highest unused bit set (length % 4 == 2)', 'AI'],
    ['highest unused bit set (length % 4 == 3)', 'AAC'],
  ])('rejects %s', (_why, segment) => {
    expect(isCanonicalBase64url(segment)).toBe(false)
    expect(decodeBase64url(segment)).toBeUndefined()
  })

  it('rejects a non-canonical spelling that Node decodes to the very same bytes', () => {
    // 'AA' and 'AB' both decode to [0] in Node: only the unused trailing bits differ.
    expect(Buffer.from('AB', 'base64url')).toEqual(Buffer.from('AA', 'base64url'))
    expect([...(decodeBase64url('AA') as Uint8Array)]).toEqual([0])
    expect(decodeBase64url('AB')).toBeUndefined()
  })

  it('accepts exactly the strings that re-encode to themselves (property, against Node as oracle)', () => {
    const alphabet = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ \n.']
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...alphabet), { maxLength: 24 }).map((chars) => chars.join('')),
        (text) => {
          const roundTrips =
            /^[A-Za-z0-9_-]*$/.test(text) &&
            text.length % 4 !== 1 &&
            Buffer.from(text, 'base64url').toString('base64url') === text
          expect(isCanonicalBase64url(text)).toBe(roundTrips)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('round-trips any bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const text = encodeBase64url(bytes)
        expect(isCanonicalBase64url(text)).toBe(true)
        expect([...(decodeBase64url(text) as Uint8Array)]).toEqual([...bytes])
      }),
      { numRuns: 500 },
    )
  })
})

describe('encodeBase64url', () => {
  it('has no padding and uses the URL-safe alphabet', () => {
    expect(encodeBase64url(new Uint8Array([0xfb, 0xff]))).toBe('-_8')
    expect(encodeBase64url(new Uint8Array([]))).toBe('')
  })

  it('encodes only the view of a subarray, not its whole buffer', () => {
    const whole = new Uint8Array([1, 2, 3, 4, 5, 6])
    expect(encodeBase64url(whole.subarray(2, 4))).toBe(Buffer.from([3, 4]).toString('base64url'))
  })
})

describe('without Buffer (runtimes other than Node)', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.resetModules()
  })

  it('the atob/btoa path gives the same answers', async () => {
    vi.stubGlobal('Buffer', undefined)
    vi.resetModules()
    const web = await import('../../../src/core/lib/base64url.js')
    expect(web.decodeBase64url('AB')).toBeUndefined()
    expect(web.decodeBase64url('AA==')).toBeUndefined()
    expect(web.decodeBase64url('-_8')).toEqual(new Uint8Array([0xfb, 0xff]))
    const bytes = new Uint8Array([0, 250, 251, 252, 253, 254, 255, 62, 63])
    expect(web.encodeBase64url(bytes)).toBe(encodeBase64url(bytes))
    expect(web.encodeBase64url(bytes.subarray(3, 6))).toBe(encodeBase64url(bytes.subarray(3, 6)))
  })
})
