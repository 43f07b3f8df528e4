/**
 * How a verifier builds, shares, warms and closes key stores: issuers with one JWKS URL share one store
 * only when they ask for the same `keySet` options, `warmUp()` loads every remote store (passed in or
 * built), and `close()` (of a verifier or a gate) closes only what it built, never a key store or
 * verifier passed in, which may serve others. Real JWKS server on 127.0.0.1.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { KeySetOptions } from '../../../src/core/config/options.js'
import { createGate } from '../../../src/core/http/gate.js'
import { createRemoteKeySet } from '../../../src/core/keys/remote.js'
import type { KeyStoreEvent } from '../../../src/core/types.js'
import { createVerifier } from '../../../src/core/verify/verifier.js'
import { type JwksServer, startJwksServer } from '../../helpers/jwks-server.js'
import { AUDIENCE, jwksOf, mint, NOW, type TestKey, testKey } from '../../helpers/tokens.js'

const PATH = '/jwks.json'
const V1 = 'https://login.example.com/tenant/'
const V2 = 'https://login.example.com/tenant/v2.0'
const now = () => NOW * 1000

let key: TestKey
let server: JwksServer
beforeAll(async () => {
  key = await testKey('ES256', 'shared')
})

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

async function serve(): Promise<JwksServer> {
  server = await startJwksServer({ [PATH]: { json: jwksOf(key) } })
  cleanup.push(() => server.close())
  return server
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Wait until the server saw `count` requests (refreshes every 50 ms), or fail after `timeoutMs`. */
async function hitsReach(count: number, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (server.hits(PATH) < count) {
    if (Date.now() > deadline) throw new Error(`${server.hits(PATH)} requests, expected ${count}`)
    await sleep(20)
  }
}

/** Requests the server sees in `ms` once nothing should refresh any more. */
async function hitsDuring(ms: number): Promise<number> {
  const before = server.hits(PATH)
  await sleep(ms)
  return server.hits(PATH) - before
}

describe('issuers sharing a JWKS URL', () => {
  const twoIssuers = (first: KeySetOptions, second: KeySetOptions) => ({
    audience: AUDIENCE,
    now,
    issuers: [
      { issuer: V1, jwksUri: server.url(PATH), keySet: first },
      { issuer: V2, jwksUri: server.url(PATH), keySet: second },
    ],
  })

  it('share one store when their store options are equal: one fetch serves both', async () => {
    await serve()
    const onEvent = (_event: KeyStoreEvent) => {}
    const verifier = createVerifier({
      ...twoIssuers(
        { cooldownDuration: 1_000, headers: { a: '1', b: '2' } },
        { cooldownDuration: 1_000, timeoutDuration: 5_000, headers: { b: '2', a: '1' } },
      ),
      keySet: { onEvent }, // top level: merged into each issuer's keySet, the same function for both
    })
    cleanup.push(() => verifier.close())
    expect(verifier.trusts[0]?.keys).toBe(verifier.trusts[1]?.keys)
    await verifier.verify(await mint({ iss: V1, aud: AUDIENCE }, {}, key))
    await verifier.verify(await mint({ iss: V2, aud: AUDIENCE }, {}, key))
    expect(server.hits(PATH)).toBe(1)
  })

  it.each<[string, KeySetOptions, KeySetOptions, RegExp]>([
    ['cooldownDuration', { cooldownDuration: 1_000 }, { cooldownDuration: 60_000 }, /1000 and 60000/],
    ['refreshInterval', {}, { refreshInterval: 60_000 }, /600000 and 60000/],
    ['cacheMaxAge', { cacheMaxAge: 1_000 }, {}, /1000 and 43200000/],
    ['timeoutDuration', { timeoutDuration: 1_000 }, { timeoutDuration: 2_000 }, /1000 and 2000/],
    ['maxResponseSize', { maxResponseSize: 10_000 }, {}, /10000 and 1048576/],
    ['onEvent', { onEvent: () => {} }, { onEvent: () => {} }, /two different functions/],
    ['onEvent', { onEvent: () => {} }, {}, /a function and nothing/],
    ['fetch', {}, { fetch: (input, init) => fetch(input, init) }, /nothing and a function/],
    ['headers', { headers: { 'x-api-key': 'one-secret' } }, {}, /different headers\. /],
  ])('refuse different %s with a TypeError naming both issuers', async (name, first, second, values) => {
    await serve()
    const make = () => createVerifier(twoIssuers(first, second))
    expect(make).toThrow(TypeError)
    expect(make).toThrow(new RegExp(`^issuers\\[1\\]\\.keySet\\.${name}: `))
    expect(make).toThrow(`issuers "${V1}" and "${V2}" share the key set ${server.url(PATH)}`)
    expect(make).toThrow(values)
    expect(make).not.toThrow(/one-secret/) // header values may be credentials
    expect(server.requests).toHaveLength(0)
  })

  it('a top-level keySet applies to the issuers whose key set the verifier builds, not to keys stores', async () => {
    await serve()
    const keys = createRemoteKeySet(server.url(PATH))
    cleanup.push(() => keys.close())
    const events: KeyStoreEvent[] = []
    const verifier = createVerifier({
      audience: AUDIENCE,
      now,
      keySet: { onEvent: (event) => events.push(event) },
      issuers: [
        { issuer: V1, keys },
        { issuer: V2, jwksUri: `${server.url(PATH)}?built` },
      ],
    })
    cleanup.push(() => verifier.close())
    await verifier.verify(await mint({ iss: V2, aud: AUDIENCE }, {}, key))
    expect(events.map((event) => event.type)).toContain('fetch-success')
  })
})

describe('warmUp()', () => {
  it('loads every remote key set, a store passed in as keys included', async () => {
    await serve()
    const keys = createRemoteKeySet(server.url(PATH))
    cleanup.push(() => keys.close())
    const verifier = createVerifier({
      audience: AUDIENCE,
      now,
      issuers: [
        { issuer: V1, keys },
        { issuer: V2, jwksUri: `${server.url(PATH)}?built` },
      ],
    })
    cleanup.push(() => verifier.close())
    expect(keys.state).toBe('empty')
    await verifier.warmUp()
    expect(keys.state).toBe('fresh')
    expect(server.hits(PATH)).toBe(2)
  })
})

describe('close() closes only what was built', () => {
  it('verifier.close() leaves open a key store passed in, which another verifier still uses', async () => {
    await serve()
    const keys = createRemoteKeySet(server.url(PATH), { refreshInterval: 50 })
    cleanup.push(() => keys.close())
    const first = createVerifier({ issuer: V1, audience: AUDIENCE, keys, now })
    const second = createVerifier({ issuer: V1, audience: AUDIENCE, keys, now })
    const token = await mint({ iss: V1, aud: AUDIENCE }, {}, key)
    await first.verify(token)
    first.close()
    await hitsReach(server.hits(PATH) + 2) // the store still refreshes in the background
    expect(keys.state).not.toBe('unavailable')
    expect((await second.verify(token)).claims.iss).toBe(V1)
    keys.close()
    expect(await hitsDuring(300)).toBe(0)
  })

  it('verifier.close() closes the stores it built', async () => {
    await serve()
    const verifier = createVerifier({
      issuer: V1,
      audience: AUDIENCE,
      jwksUri: server.url(PATH),
      keySet: { refreshInterval: 50 },
      now,
    })
    await verifier.verify(await mint({ iss: V1, aud: AUDIENCE }, {}, key))
    await hitsReach(2)
    verifier.close()
    verifier.close()
    await sleep(60) // a fetch already under way may still finish
    expect(await hitsDuring(300)).toBe(0)
  })

  it('gate.close() leaves open a verifier passed in, and closes a verifier it built', async () => {
    await serve()
    const options = {
      issuer: V1,
      audience: AUDIENCE,
      jwksUri: server.url(PATH),
      keySet: { refreshInterval: 50 },
      now,
    }
    const shared = createVerifier(options)
    cleanup.push(() => shared.close())
    const token = await mint({ iss: V1, aud: AUDIENCE }, {}, key)
    const request = { method: 'GET', headers: new Headers({ authorization: `Bearer ${token}` }) }

    const borrowing = createGate({ verifier: shared })
    await borrowing.check(request)
    borrowing.close()
    await hitsReach(server.hits(PATH) + 2) // the shared verifier's store still refreshes
    expect((await createGate({ verifier: shared }).check(request))?.claims.iss).toBe(V1)
    shared.close()
    await sleep(60)
    expect(await hitsDuring(300)).toBe(0)

    const owning = createGate(options)
    await owning.check(request)
    owning.close()
    await sleep(60)
    expect(await hitsDuring(300)).toBe(0)
  })
})
