/**
 * A refreshed key set is judged as a first fetch would judge it (RFC 7517 §4.2–4.3): a key the provider
 * republishes with its private half, with `key_ops` that exclude "verify", or with `use: "enc"` is no
 * longer trusted by a running verifier, with or without the verified-token cache, and the change is
 * reported as `keys-changed`. Real JWKS server on 127.0.0.1.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import type { JWK, KeyStoreEvent } from '../../../src/core/types.js'
import { createVerifier, PENDING, type Verifier } from '../../../src/core/verify/verifier.js'
import { type JwksServer, startJwksServer } from '../../helpers/jwks-server.js'
import { AUDIENCE, codeOf, ISSUER, mint, NOW, type TestKey, testKey } from '../../helpers/tokens.js'

const PATH = '/jwks.json'
let signer: TestKey
let other: TestKey
beforeAll(async () => {
  signer = await testKey('ES256', 'signer')
  other = await testKey('RS256', 'other')
})

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

async function serve(keys: JWK[]): Promise<JwksServer> {
  const server = await startJwksServer({ [PATH]: { json: { keys } } })
  cleanup.push(() => server.close())
  return server
}

function verifierOn(server: JwksServer, cache: boolean, events: KeyStoreEvent[] = []): Verifier {
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: server.url(PATH),
    now: () => NOW * 1000, // the helpers' tokens are minted for this clock; the cooldown never ends
    cache,
    keySet: { onEvent: (event) => events.push(event) },
  })
  cleanup.push(() => verifier.close())
  return verifier
}

/** What the synchronous path says: 'OK', 'LATER' (only `verify` can answer) or the error code. */
function syncCode(verifier: Verifier, token: string): string {
  try {
    return verifier.verifySync(token) === PENDING ? 'LATER' : 'OK'
  } catch (error) {
    if (!(error instanceof GatehouseError)) throw error
    return error.code
  }
}

const republished: [string, (key: TestKey) => JWK][] = [
  ['with its private half ("d")', (key) => ({ ...key.jwk, d: key.privateKey.export({ format: 'jwk' }).d })],
  ['with key_ops ["encrypt"]', (key) => ({ ...key.jwk, key_ops: ['encrypt'] })],
  ['with key_ops ["sign"]', (key) => ({ ...key.jwk, key_ops: ['sign'] })],
  ['with use "enc"', (key) => ({ ...key.jwk, use: 'enc' })],
]

describe('a key republished in a form a first fetch refuses', () => {
  describe.each([
    ['alone', false],
    ['beside a usable key', true],
  ])('%s', (_where, beside) => {
    it.each(
      republished.flatMap(([what, change]) => [
        { what, change, cache: false },
        { what, change, cache: true },
      ]),
    )(
      '$what: refused after the refresh, as by a fresh verifier (cache: $cache)',
      async ({ change, cache }) => {
        const others = beside ? [other.jwk] : []
        const server = await serve([signer.jwk, ...others])
        const events: KeyStoreEvent[] = []
        const running = verifierOn(server, cache, events)
        const token = await mint({}, {}, signer)
        const otherToken = await mint({}, {}, other)
        expect(await codeOf(running.verify(token))).toBe('OK')
        expect(syncCode(running, token)).toBe('OK') // loaded (and cached, with the cache)

        server.set(PATH, { json: { keys: [change(signer), ...others] } })
        await running.warmUp().catch(() => {}) // the refresh; without a usable key it fails
        const fresh = verifierOn(server, cache)
        const refusedByFresh = await codeOf(fresh.verify(token))
        expect(refusedByFresh).not.toBe('OK')

        expect(syncCode(running, token)).not.toBe('OK')
        expect(await codeOf(running.verify(token))).toBe(refusedByFresh)
        if (beside) {
          expect(await codeOf(running.verify(otherToken))).toBe('OK')
          expect(events).toContainEqual({ type: 'keys-changed', added: ['signer'], removed: ['signer'] })
        } else {
          expect(refusedByFresh).toBe('ERR_JWKS_UNAVAILABLE')
          expect(events).toContainEqual({ type: 'keys-changed', added: [], removed: ['signer'] })
          expect(events).toContainEqual(expect.objectContaining({ type: 'fetch-error', servingStale: false }))
        }
      },
    )
  })

  it('a key republished identically stays imported: the same key object, no keys-changed', async () => {
    const server = await serve([signer.jwk, other.jwk])
    const events: KeyStoreEvent[] = []
    const verifier = verifierOn(server, false, events)
    const token = await mint({}, {}, signer)
    await verifier.verify(token)
    // Members in another order, as a provider may serialise them: the same JWK.
    const reordered = Object.fromEntries(Object.entries(signer.jwk).reverse()) as JWK
    server.set(PATH, { json: { keys: [other.jwk, reordered] } })
    await verifier.warmUp()
    expect(events.filter((event) => event.type === 'keys-changed')).toHaveLength(1) // the first load
    expect(syncCode(verifier, token)).toBe('OK') // answered without an import
  })

  it('a key that becomes usable again is accepted after the next refresh', async () => {
    const server = await serve([{ ...signer.jwk, key_ops: ['encrypt'] }, other.jwk])
    const verifier = verifierOn(server, true)
    const token = await mint({}, {}, signer)
    expect(await codeOf(verifier.verify(token))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    server.set(PATH, { json: { keys: [{ ...signer.jwk, key_ops: ['verify'] }, other.jwk] } })
    await verifier.warmUp()
    expect(await codeOf(verifier.verify(token))).toBe('OK')
  })
})
