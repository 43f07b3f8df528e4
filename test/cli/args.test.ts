/**
 * Option parsing: a token that begins with "-" (one base64url opaque token in 64) is read as the token,
 * whatever the flags around it, while options and their values keep their meaning.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parse, tokenArguments } from '../../src/cli/args.js'
import { UsageError } from '../../src/cli/context.js'

const OPTIONS = {
  issuer: { type: 'string' },
  audience: { type: 'string' },
  'allow-insecure-requests': { type: 'boolean' },
  scope: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const

function read(argv: string[]) {
  return parse(tokenArguments(argv, OPTIONS), OPTIONS)
}

describe('tokenArguments', () => {
  it('reads "-…" and "--…" tokens as the positional, before, between and after the flags', () => {
    for (const token of [
      '-Xb3k9_QzP0-7mVt1sLwq8yNcRfHdJ2aE4uKoGiY5B6',
      '--b3k9_QzP0-7mVt1sLwq8yNcRfHdJ2aE4u',
    ]) {
      for (const argv of [
        [token, '--issuer', 'https://a.example', '--json'],
        ['--issuer', 'https://a.example', token, '--json'],
        ['--json', '--issuer=https://a.example', token],
        ['--issuer', 'https://a.example', '--', token],
      ]) {
        const { values, positionals } = read(argv)
        expect(positionals, argv.join(' ')).toEqual([token])
        expect(values.issuer).toBe('https://a.example')
      }
    }
  })

  it('leaves options alone: known long ones, misspelled ones, short ones, and an option value', () => {
    expect(tokenArguments(['--allow-insecure-requests', 'tok'], OPTIONS)).toEqual([
      '--allow-insecure-requests',
      'tok',
    ])
    expect(() => read(['--allow-insecure-request', 'tok'])).toThrow(
      new UsageError('unknown option --allow-insecure-request'),
    )
    expect(() => read(['-x', 'tok'])).toThrow(UsageError)
    // The value of a string option is not taken away from it: parseArgs says how to write it.
    expect(() => read(['--audience', '-Xb3k9_QzP0-7mVt1sLwq8yNcRf', 'tok'])).toThrow(/--audience=VALUE/)
    // Nothing after `--` moves, and an argv without such a token comes back as it was.
    expect(tokenArguments(['a', '--', '-Xb3k9_QzP0-7mVt1sLwq8yN'], OPTIONS)).toEqual([
      'a',
      '--',
      '-Xb3k9_QzP0-7mVt1sLwq8yN',
    ])
  })

  it('any 256-bit base64url token comes out as the one positional, wherever it stands', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(3), (bytes, position) => {
        const token = Buffer.from(bytes).toString('base64url')
        const flags = ['--issuer', 'https://a.example', '--scope', 'read', '--json']
        const at = [0, 2, 4, 5][position]!
        const argv = [...flags.slice(0, at), token, ...flags.slice(at)]
        const { values, positionals } = read(argv)
        expect(positionals).toEqual([token])
        expect(values).toEqual({ issuer: 'https://a.example', scope: ['read'], json: true })
      }),
      { numRuns: 500 },
    )
  })
})

describe('tokenArguments, option values', () => {
  const PROOF = { url: { type: 'string' }, token: { type: 'string' }, nonce: { type: 'string' } } as const
  const proof = (argv: string[]) => parse(tokenArguments(argv, PROOF, ['token', 'nonce']), PROOF)

  it('a --token or --nonce value that begins with "-" is the value', () => {
    const { values } = proof([
      '--url',
      'http://127.0.0.1/a',
      '--token',
      '-Xb3k9_QzP0-7mVt1s',
      '--nonce',
      '-n0Nc3',
    ])
    expect(values).toEqual({ url: 'http://127.0.0.1/a', token: '-Xb3k9_QzP0-7mVt1s', nonce: '-n0Nc3' })
  })

  it('"-" (standard input) stays itself; an option after --token is not swallowed as its value', () => {
    expect(proof(['--token', '-']).values.token).toBe('-')
    expect(() => proof(['--token', '--url', 'http://127.0.0.1/a'])).toThrow(/--token=VALUE/)
    // Options not listed keep parseArgs' rule.
    expect(() => proof(['--url', '-Xb3k9_QzP0-7mVt1s'])).toThrow(/--url=VALUE/)
  })
})
