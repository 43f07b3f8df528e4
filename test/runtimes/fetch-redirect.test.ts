/**
 * Redirects are refused, on every runtime: the key store and discovery send `redirect: 'manual'` and
 * refuse the 3xx (or, in browsers, the opaque redirect) themselves. `redirect: 'error'` would say the same
 * on Node, but workerd refuses to send such a request at all ("must be one of follow or manual"), so a
 * Worker could never load a key set. Real servers on 127.0.0.1; the fetch below only adds workerd's rule.
 */
import { generateKeyPairSync } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../src/core/errors.js'
import { discover } from '../../src/core/keys/discovery.js'
import { createRemoteKeySet, type RemoteKeyStore } from '../../src/core/keys/remote.js'
import type { JWK } from '../../src/core/types.js'
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js'

const jwk = { ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'k1' } as JWK
const moved = { status: 302, body: '', headers: { location: '/elsewhere' } }

/** globalThis.fetch with workerd's rule on `redirect` (it refuses 'error' before sending anything). */
const workerdFetch: typeof fetch = (input, init) => {
  if (init?.redirect === 'error') {
    return Promise.reject(new TypeError('Invalid redirect value, must be one of "follow" or "manual"'))
  }
  return fetch(input, init)
}

/** What a browser's fetch answers to `redirect: 'manual'`: an opaque redirect, status 0, no headers. */
const browserFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init)
  if (response.status < 300 || response.status >= 400) return response
  await response.body?.cancel()
  const opaque = new Response(null, { status: 200 })
  Object.defineProperties(opaque, { type: { value: 'opaqueredirect' }, status: { value: 0 } })
  return opaque
}

const servers: JwksServer[] = []
const stores: RemoteKeyStore[] = []
afterEach(async () => {
  for (const keys of stores.splice(0)) keys.close()
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function serve(...args: Parameters<typeof startJwksServer>): Promise<JwksServer> {
  const server = await startJwksServer(...args)
  servers.push(server)
  return server
}

async function refreshFailure(url: string, fetchImpl?: typeof fetch): Promise<GatehouseError> {
  const keys = createRemoteKeySet(url, fetchImpl === undefined ? {} : { fetch: fetchImpl })
  stores.push(keys)
  const error = await keys.refresh().then(
    () => undefined,
    (reason: unknown) => reason,
  )
  expect(error).toBeInstanceOf(GatehouseError)
  return error as GatehouseError
}

/** Every message in an error's cause chain, joined. */
function causes(error: unknown): string {
  const messages: string[] = []
  for (let e = error; e instanceof Error; e = e.cause) messages.push(e.message)
  return messages.join(' / ')
}

describe('the key store on a fetch that refuses redirect: "error" (workerd)', () => {
  it('loads the key set', async () => {
    const server = await serve({ '/jwks': { json: { keys: [jwk] } } })
    const keys = createRemoteKeySet(server.url('/jwks'), { fetch: workerdFetch })
    stores.push(keys)
    await keys.refresh()
    expect(keys.state).toBe('fresh')
  })

  it('refuses a redirect with ERR_JWKS_FETCH_FAILED, without requesting its location', async () => {
    const server = await serve({ '/jwks': moved, '/elsewhere': { json: { keys: [jwk] } } })
    const error = await refreshFailure(server.url('/jwks'), workerdFetch)
    expect(error.code).toBe('ERR_JWKS_FETCH_FAILED')
    expect(causes(error)).toContain(
      `${server.url('/jwks')} answered HTTP 302, a redirect, which is not followed`,
    )
    expect(server.hits('/elsewhere')).toBe(0)
  })
})

describe('redirects on Node’s own fetch and a browser’s', () => {
  it.each([301, 302, 303, 307, 308])(
    'Node: %i is ERR_JWKS_FETCH_FAILED, its location never requested',
    async (status) => {
      const server = await serve({ '/jwks': { ...moved, status }, '/elsewhere': { json: { keys: [jwk] } } })
      const error = await refreshFailure(server.url('/jwks'))
      expect(error.code).toBe('ERR_JWKS_FETCH_FAILED')
      expect(causes(error)).toContain(`answered HTTP ${status}, a redirect, which is not followed`)
      expect(server.hits('/elsewhere')).toBe(0)
    },
  )

  it('a browser’s opaque redirect (status 0) is refused alike', async () => {
    const server = await serve({ '/jwks': moved, '/elsewhere': { json: { keys: [jwk] } } })
    const error = await refreshFailure(server.url('/jwks'), browserFetch)
    expect(error.code).toBe('ERR_JWKS_FETCH_FAILED')
    expect(causes(error)).toContain('a redirect, which is not followed')
    expect(server.hits('/elsewhere')).toBe(0)
  })
})

describe('discovery on a fetch that refuses redirect: "error" (workerd)', () => {
  it('reads the metadata document', async () => {
    const server = await serve()
    server.set('/.well-known/openid-configuration', {
      json: { issuer: server.origin, jwks_uri: `${server.origin}/jwks` },
    })
    const metadata = await discover(server.origin, { fetch: workerdFetch })
    expect(metadata.jwks_uri).toBe(`${server.origin}/jwks`)
  })

  it('refuses a redirected metadata document with ERR_DISCOVERY_FAILED', async () => {
    const server = await serve()
    server.set('/.well-known/openid-configuration', moved)
    server.set('/.well-known/oauth-authorization-server', moved)
    const error = await discover(server.origin, { fetch: workerdFetch }).then(
      () => undefined,
      (reason: unknown) => reason as GatehouseError,
    )
    expect(error?.code).toBe('ERR_DISCOVERY_FAILED')
    expect(causes(error)).toContain('a redirect, which is not followed')
    expect(server.hits('/elsewhere')).toBe(0)
  })
})
