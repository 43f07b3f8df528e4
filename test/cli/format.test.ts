import { describe, expect, it } from 'vitest'
import { duration, list } from '../../src/cli/args.js'
import { UsageError } from '../../src/cli/context.js'
import {
  bold,
  checkLine,
  describeTime,
  printable,
  printableJson,
  relativeTime,
} from '../../src/cli/format.js'
import { rawControls } from './run-cli.js'

describe('relativeTime', () => {
  it.each([
    [1000, 1000, 'just now'],
    [1042, 1000, 'in 42 s'],
    [1000 + 5 * 60 + 30, 1000, 'in 5 min'],
    [1000 - 3 * 3600 - 59, 1000, '3 h ago'],
    [1000 - 47 * 3600, 1000, '47 h ago'],
    [1000 + 3 * 86400, 1000, 'in 3 d'],
  ])('relativeTime(%d, %d) is %s', (at, now, expected) => {
    expect(relativeTime(at, now)).toBe(expected)
  })

  it('describeTime gives the ISO date and the relative time, or undefined for non-numbers', () => {
    expect(describeTime(0, 3600)).toBe('1970-01-01T00:00:00.000Z (1 h ago)')
    expect(describeTime('0', 0)).toBeUndefined()
    expect(describeTime(Number.MAX_VALUE, 0)).toBeUndefined()
  })
})

describe('duration', () => {
  it.each([
    ['3600', 3600],
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
    ['1d', 86400],
    ['-1h', -3600],
    ['0.5s', 0.5],
  ])('%s is %d seconds', (value, seconds) => {
    expect(duration('x', value, 0)).toBe(seconds)
  })

  it('absent gives the fallback; garbage is a UsageError naming the option', () => {
    expect(duration('x', undefined, 42)).toBe(42)
    expect(() => duration('expires-in', '1 week', 0)).toThrow(UsageError)
    expect(() => duration('expires-in', '1 week', 0)).toThrow(/^--expires-in must be a duration/)
  })
})

it('list splits repeated values on spaces and commas', () => {
  expect(list(['a b', 'c,d', ''])).toEqual(['a', 'b', 'c', 'd'])
  expect(list(undefined)).toEqual([])
})

it('checkLine marks each status, coloured only when asked', () => {
  expect(checkLine('pass', 'exp', 'fine', false)).toBe('  ✓ exp: fine')
  expect(checkLine('fail', 'aud', 'no', false)).toBe('  ✗ aud: no')
  expect(checkLine('skip', 'nbf', 'absent', false)).toBe('  · nbf: absent')
  expect(checkLine('fail', 'aud', 'no', true)).toBe('  \u001b[31m✗\u001b[0m aud: no')
})

describe('printable: control characters become JSON-style escapes', () => {
  it.each([
    ['ESC', '\u001b[2J', '\\u001b[2J'],
    ['BEL', 'a\u0007b', 'a\\u0007b'],
    ['CR and LF', 'a\r\nb', 'a\\u000d\\u000ab'],
    ['TAB', 'a\tb', 'a\\u0009b'],
    ['DEL', 'a\u007f', 'a\\u007f'],
    ['C1 CSI', '\u009b31m', '\\u009b31m'],
    ['right-to-left override', 'abc\u202eexe.txt', 'abc\\u202eexe.txt'],
    ['isolates and marks', '\u2066\u2069\u200f\u061c', '\\u2066\\u2069\\u200f\\u061c'],
    ['line separator', 'a\u2028b', 'a\\u2028b'],
  ])('%s', (_, input, expected) => {
    expect(printable(input)).toBe(expected)
  })

  it('leaves printable text alone, accents, emoji and backslashes included', () => {
    expect(printable('café ✓ 🔑 C:\\path "quoted"')).toBe('café ✓ 🔑 C:\\path "quoted"')
  })

  it('keeps line breaks or the CLI own colours only when asked', () => {
    expect(printable('a\nb', { newline: true })).toBe('a\nb')
    expect(printable('\u001b[32m✓\u001b[0m \u001b]0;title\u0007', { style: true })).toBe(
      '\u001b[32m✓\u001b[0m \\u001b]0;title\\u0007',
    )
  })

  it('checkLine and bold escape what they are given, and keep their own colours', () => {
    expect(checkLine('fail', 'kid\r', 'no key "\u001b[32m"', true)).toBe(
      '  \u001b[31m✗\u001b[0m kid\\u000d: no key "\\u001b[32m"',
    )
    expect(bold('x\u0007', true)).toBe('\u001b[1mx\\u0007\u001b[0m')
  })

  it('printableJson still parses to the same value', () => {
    const value = { 'k\u009b': ['\u001b\u202e\u007f\r\n'] }
    const text = printableJson(value)
    expect(rawControls(text)).toEqual([])
    expect(JSON.parse(text)).toEqual(value)
  })
})
