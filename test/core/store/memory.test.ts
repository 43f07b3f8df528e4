/**
 * The memory store: set-if-absent with expiry, get/set with expiry, bounded in entries and bytes with the
 * oldest evicted first (and counted when it had not expired), expired entries swept on insertion. A clock
 * that the test moves stands in for time; a random sequence of operations is checked against a plain
 * model of the same rules.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createMemoryStore, ENTRY_OVERHEAD } from '../../../src/core/store/memory.js'

function clocked(options: Parameters<typeof createMemoryStore>[0] = {}) {
  const clock = { ms: 1_700_000_000_000 }
  const store = createMemoryStore({ ...options, now: () => clock.ms })
  return { store, clock }
}

describe('createMemoryStore', () => {
  it('setIfAbsent records a key once until it expires', async () => {
    const { store, clock } = clocked()
    expect(store.setIfAbsentSync('jti', 10)).toBe(true)
    expect(store.setIfAbsentSync('jti', 10)).toBe(false)
    expect(await store.setIfAbsent('jti', 10)).toBe(false)
    clock.ms += 9_999
    expect(store.setIfAbsentSync('jti', 10)).toBe(false)
    clock.ms += 1 // expiry is exclusive: at exactly ttl the entry is gone
    expect(store.setIfAbsentSync('jti', 10)).toBe(true)
    expect(await store.setIfAbsent('other', 0.5)).toBe(true)
  })

  it('get and set: a value with a ttl, replaced by set, gone after expiry; a recorded key reads "1"', async () => {
    const { store, clock } = clocked()
    expect(store.getSync('k')).toBeUndefined()
    store.setSync('k', 'v1', 5)
    expect(store.getSync('k')).toBe('v1')
    await store.set('k', 'v2', 1)
    expect(await store.get('k')).toBe('v2')
    clock.ms += 1000
    expect(store.getSync('k')).toBeUndefined()
    expect(store.size).toBe(0) // the expired entry was dropped when read
    store.setIfAbsentSync('jti', 5)
    expect(store.getSync('jti')).toBe('1')
  })

  it('at maxEntries the oldest entry is evicted, and counted when it had not expired', () => {
    const { store, clock } = clocked({ maxEntries: 3 })
    for (const key of ['a', 'b', 'c']) store.setIfAbsentSync(key, 60)
    store.setIfAbsentSync('d', 60)
    expect(store.size).toBe(3)
    expect(store.evictions).toBe(1)
    expect(store.setIfAbsentSync('a', 60)).toBe(true) // evicted: recorded again (the cost of a full store)
    expect(store.setIfAbsentSync('c', 60)).toBe(false)
    clock.ms += 60_000
    store.setIfAbsentSync('e', 60) // the expired ones leave without counting as evictions
    expect(store.evictions).toBe(2)
  })

  it('a set moves its key to the young end: replaced values are not evicted first', () => {
    const { store } = clocked({ maxEntries: 2 })
    store.setSync('a', '1', 60)
    store.setSync('b', '1', 60)
    store.setSync('a', '2', 60)
    store.setSync('c', '1', 60)
    expect(store.getSync('a')).toBe('2')
    expect(store.getSync('b')).toBeUndefined()
  })

  it('maxBytes bounds the estimated size (2 per character plus the entry overhead)', () => {
    const entry = (key: string, value = '1') => (key.length + value.length) * 2 + ENTRY_OVERHEAD
    const { store } = clocked({ maxBytes: 1024 })
    const key = (i: number) => `key-${String(i).padStart(60, '0')}`
    const fits = Math.floor(1024 / entry(key(0)))
    for (let i = 0; i <= fits; i++) store.setIfAbsentSync(key(i), 60)
    expect(store.size).toBe(fits)
    expect(store.bytes).toBe(fits * entry(key(0)))
    expect(store.bytes).toBeLessThanOrEqual(1024)
    expect(store.evictions).toBe(1)
  })

  it('an entry larger than maxBytes: setIfAbsent throws (never claims a record it did not keep), set drops it', async () => {
    const { store } = clocked({ maxBytes: 1024 })
    store.setSync('big', 'old', 60)
    expect(() => store.setIfAbsentSync('x'.repeat(600), 60)).toThrow(TypeError)
    await expect(store.setIfAbsent('x'.repeat(600), 60)).rejects.toThrow(/do not fit in maxBytes/)
    store.setSync('big', 'y'.repeat(600), 60)
    expect(store.getSync('big')).toBeUndefined()
  })

  it('each insertion sweeps expired entries from the oldest end', () => {
    const { store, clock } = clocked()
    for (let i = 0; i < 10; i++) store.setIfAbsentSync(`old-${i}`, 1)
    clock.ms += 1000
    store.setIfAbsentSync('new-0', 60)
    expect(store.size).toBe(9) // 10 - 2 swept + 1
    for (let i = 1; i < 5; i++) store.setIfAbsentSync(`new-${i}`, 60)
    expect(store.size).toBe(5)
    expect(store.evictions).toBe(0)
  })

  it('ttl and options are checked: TypeErrors naming them', async () => {
    const store = createMemoryStore()
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      expect(() => store.setIfAbsentSync('k', ttl)).toThrow(/^ttlSeconds: expected a positive finite/)
      await expect(store.setIfAbsent('k', ttl)).rejects.toThrow(TypeError)
    }
    expect(() => createMemoryStore({ maxEntries: 0 })).toThrow(/^maxEntries: expected a positive integer/)
    expect(() => createMemoryStore({ maxBytes: 100 })).toThrow(
      /^maxBytes: expected an integer of at least 1024/,
    )
    expect(() => createMemoryStore({ now: 5 as never })).toThrow(/^now: expected a function/)
  })

  it('clear and close drop everything', async () => {
    const { store } = clocked()
    store.setIfAbsentSync('a', 60)
    store.setSync('b', 'v', 60)
    store.clear()
    expect([store.size, store.bytes]).toEqual([0, 0])
    expect(store.setIfAbsentSync('a', 60)).toBe(true)
    await store.close()
    expect(store.size).toBe(0)
  })

  it('grows past its first arrays and reuses released slots', () => {
    const { store, clock } = clocked({ maxEntries: 5000 })
    for (let i = 0; i < 5000; i++) expect(store.setIfAbsentSync(`k${i}`, 1)).toBe(true)
    for (let i = 0; i < 5000; i++) expect(store.setIfAbsentSync(`k${i}`, 1)).toBe(false)
    clock.ms += 1000
    for (let i = 0; i < 5000; i++) expect(store.setIfAbsentSync(`j${i}`, 1)).toBe(true)
    expect(store.size).toBe(5000)
    expect(store.getSync('j4999')).toBe('1')
    expect(store.getSync('k0')).toBeUndefined()
  })

  it('behaves like a plain model of the same rules, for random sequences of operations', () => {
    type Op =
      | { op: 'setIfAbsent'; key: number; ttl: number }
      | { op: 'set'; key: number; value: string; ttl: number }
      | { op: 'get'; key: number }
      | { op: 'tick'; ms: number }
    const key = fc.integer({ min: 0, max: 12 })
    const ttl = fc.integer({ min: 1, max: 20 })
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('setIfAbsent' as const), key, ttl }),
      fc.record({ op: fc.constant('set' as const), key, value: fc.string({ maxLength: 8 }), ttl }),
      fc.record({ op: fc.constant('get' as const), key }),
      fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 8000 }) }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.integer({ min: 1, max: 8 }), (ops, maxEntries) => {
        const { store, clock } = clocked({ maxEntries })
        // The model: the same rules on a plain Map in insertion order (expired entries stay until read or
        // swept; each insertion sweeps at most two expired ones from the oldest end, then evicts the oldest).
        const model = new Map<string, { value: string; expires: number }>()
        const liveIn = (k: string) => {
          const entry = model.get(k)
          if (entry !== undefined && entry.expires <= clock.ms) model.delete(k)
          return model.get(k)
        }
        const add = (k: string, value: string, seconds: number) => {
          for (let i = 0; i < 2; i++) {
            const [first] = model
            if (first === undefined || first[1].expires > clock.ms) break
            model.delete(first[0])
          }
          while (model.size >= maxEntries) model.delete(model.keys().next().value as string)
          model.set(k, { value, expires: clock.ms + seconds * 1000 })
        }
        for (const step of ops) {
          const k = `key-${'key' in step ? step.key : 0}`
          if (step.op === 'tick') clock.ms += step.ms
          else if (step.op === 'get') expect(store.getSync(k)).toBe(liveIn(k)?.value)
          else if (step.op === 'setIfAbsent') {
            const expected = liveIn(k) === undefined
            if (expected) add(k, '1', step.ttl)
            expect(store.setIfAbsentSync(k, step.ttl)).toBe(expected)
          } else {
            model.delete(k)
            add(k, step.value, step.ttl)
            store.setSync(k, step.value, step.ttl)
          }
          expect(store.size).toBe(model.size)
        }
        for (let i = 0; i <= 12; i++) expect(store.getSync(`key-${i}`)).toBe(liveIn(`key-${i}`)?.value)
      }),
      { numRuns: 300 },
    )
  })
})
