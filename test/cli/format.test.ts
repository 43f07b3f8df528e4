import { describe, expect, it } from 'vitest'
import { duration, list } from '../../src/cli/args.js'
import { UsageError } from '../../src/cli/context.js'
import { checkLine, describeTime, relativeTime } from '../../src/cli/format.js'

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
