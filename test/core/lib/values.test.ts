/**
 * The option-value checks every room shares: what each accepts, and that a TypeError names the option
 * and shows the wrong value only by its kind or, for a string, its first 80 characters.
 */
import { expect, it, describe as suite } from 'vitest'
import { booleanOption, describe, isPlainObject, stringList } from '../../../src/core/lib/values.js'

suite('isPlainObject', () => {
  it.each([{}, { a: 1 }, Object.create(null), new URL('https://a.example')])('accepts %j', (value) => {
    expect(isPlainObject(value)).toBe(true)
  })
  it.each([null, undefined, [], 'x', 1, true, () => {}])('refuses %j', (value) => {
    expect(isPlainObject(value)).toBe(false)
  })
})

suite('describe', () => {
  it.each<[unknown, string]>([
    ['abc', '"abc"'],
    [null, 'null'],
    [[1], 'an array'],
    [1, 'number'],
    [undefined, 'undefined'],
    [{ secret: 'x' }, 'object'],
  ])('%j → %s', (value, shown) => {
    expect(describe(value)).toBe(shown)
  })
  it('cuts a string after 80 characters', () => {
    expect(describe('x'.repeat(500))).toBe(JSON.stringify(`${'x'.repeat(80)}…`))
  })
})

suite('stringList', () => {
  it('reads a string as a list of one, and copies a list, repeats kept', () => {
    expect(stringList('o', 'a')).toEqual(['a'])
    const given = ['a', 'b', 'a']
    const list = stringList('o', given)
    expect(list).toEqual(['a', 'b', 'a'])
    expect(list).not.toBe(given)
  })

  it.each<[unknown, string]>([
    [undefined, 'undefined'],
    [[], 'an array'],
    [[''], 'an array'],
    [['a', 1], 'an array'],
    ['', '""'],
    [1, 'number'],
  ])('by default refuses %j, naming the option and the form', (value, shown) => {
    expect(() => stringList('issuers[0].audience', value)).toThrow(
      new TypeError(
        `issuers[0].audience: expected a non-empty string or a non-empty array of non-empty strings, got ${shown}`,
      ),
    )
  })

  it('{ single: false, empty: true }: any array of non-empty strings, no lone string', () => {
    const form = { single: false, empty: true }
    expect(stringList('o', [], form)).toEqual([])
    expect(stringList('o', ['a'], form)).toEqual(['a'])
    expect(() => stringList('o', 'a', form)).toThrow(
      new TypeError('o: expected an array of non-empty strings, got "a"'),
    )
    expect(() => stringList('o', [''], form)).toThrow(/^o: expected an array of non-empty strings/)
  })

  it('{ single: false }: a non-empty array only', () => {
    expect(() => stringList('o', [], { single: false })).toThrow(
      new TypeError('o: expected a non-empty array of non-empty strings, got an array'),
    )
  })
})

suite('booleanOption', () => {
  it('is false when left out, else the boolean given', () => {
    expect(booleanOption('o', undefined)).toBe(false)
    expect(booleanOption('o', false)).toBe(false)
    expect(booleanOption('o', true)).toBe(true)
  })
  it.each<[unknown, string]>([
    ['false', '"false"'],
    [0, 'number'],
    [null, 'null'],
  ])('refuses %j', (value, shown) => {
    expect(() => booleanOption('okta.discovery', value)).toThrow(
      new TypeError(`okta.discovery: expected a boolean, got ${shown}`),
    )
  })
})
