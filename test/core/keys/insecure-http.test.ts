/**
 * Plain http to a host that is not loopback: refused at construction wherever it would be fetched from
 * (issuer with discovery, derived or given JWKS URL, the environment), never discovered at the first
 * request as a 503; allowed only by the explicit `allowInsecureRequests` / GATEHOUSE_ALLOW_INSECURE_REQUESTS,
 * which reports each such host once with `process.emitWarning`.
 *
 * No test can reach a non-loopback http host, so the opt-out is exercised end to end through the `fetch`
 * option, as a proxy would: every request for `keycloak.test:8080` goes to a real server on 127.0.0.1.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { optionsFromEnv } from '../../../src/core/config/env.js'
import type { VerifierOptions } from '../../../src/core/config/options.js'
import { discover, discoverKeySet } from '../../../src/core/keys/discovery.js'
import { createRemoteKeySet } from '../../../src/core/keys/remote.js'
import { createVerifier } from '../../../src/core/verify/verifier.js'
import { type JwksServer, startJwksServer } from '../../helpers/jwks-server.js'
import { AUDIENCE, jwksOf, mint, NOW, type TestKey, testKey } from '../../helpers/tokens.js'

let key: TestKey
beforeAll(async () => {
  key = await testKey('ES256', 'dev')
})

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const step of cleanup.splice(0).reverse()) await step()
})

/** Each test uses its own host: the warning is given once per host and process. */
let hosts = 0
const devHost = () => `keycloak-${++hosts}.test:8080`

/** A server on 127.0.0.1 that plays `http://{host}/realms/dev` (metadata and keys), and a fetch routed to it. */
async function devIssuer(host: string) {
  const server: JwksServer = await startJwksServer()
  cleanup.push(() => server.close())
  const issuer = `http://${host}/realms/dev`
  server.set('/realms/dev/.well-known/openid-configuration', {
    json: { issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs` },
  })
  server.set('/realms/dev/protocol/openid-connect/certs', { json: jwksOf(key) })
  const routed: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    if (url.host !== host) throw new Error(`unexpected host ${url.host}`)
    return fetch(`${server.origin}${url.pathname}${url.search}`, init)
  }
  return { server, issuer, fetch: routed }
}

/** Capture `process.emitWarning`; the result reads the messages given so far. */
function warnings(): () => string[] {
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
  return () => spy.mock.calls.map((call) => String(call[0]))
}

describe('refused at construction', () => {
  const http = 'http://keycloak.test:8080/realms/dev'
  it.each<[string, VerifierOptions, RegExp]>([
    [
      'an http issuer with discovery: true',
      { issuer: http, discovery: true },
      /^issuer: expected an https URL/,
    ],
    [
      "an http issuer with discovery: 'auto'",
      { issuer: http, discovery: 'auto' },
      /^issuer: expected an https/,
    ],
    ['an http issuer with the default JWKS URL', { issuer: http }, /^issuer: expected an https URL/],
    [
      'an https issuer with an http jwksUri',
      { issuer: 'https://id.example.com', jwksUri: `${http}/certs` },
      /^jwksUri: expected an https URL/,
    ],
    [
      'the second of several issuers',
      { issuers: [{ issuer: 'https://id.example.com' }, { issuer: http, discovery: true }] },
      /^issuers\[1\]\.issuer: expected an https URL/,
    ],
    [
      'allowInsecureRequests that is not a boolean',
      { issuer: http, discovery: true, keySet: { allowInsecureRequests: 'yes' as never } },
      /^keySet\.allowInsecureRequests: expected a boolean/,
    ],
  ])('%s', (_why, options, message) => {
    const make = () => createVerifier({ audience: AUDIENCE, ...options })
    expect(make).toThrow(TypeError)
    expect(make).toThrow(message)
    expect(make).toThrow(/allowInsecureRequests|expected a boolean/) // the way out is named
  })

  it('an http issuer with local keys is fine: nothing is fetched from it', () => {
    createVerifier({ issuer: http, audience: AUDIENCE, keys: jwksOf(key) }).close()
  })

  it('the environment is refused the same way, naming the variable', () => {
    const env = { GATEHOUSE_AUDIENCE: AUDIENCE }
    expect(() => optionsFromEnv({ ...env, GATEHOUSE_ISSUER: http })).toThrow(
      /^GATEHOUSE_ISSUER: expected an https URL.*GATEHOUSE_ALLOW_INSECURE_REQUESTS=1/,
    )
    expect(() =>
      optionsFromEnv({ ...env, GATEHOUSE_ISSUER: 'https://id.example.com', GATEHOUSE_JWKS_URL: `${http}/c` }),
    ).toThrow(/^GATEHOUSE_JWKS_URL: expected an https URL/)
    expect(() =>
      optionsFromEnv({ ...env, GATEHOUSE_ISSUER: http, GATEHOUSE_ALLOW_INSECURE_REQUESTS: 'yes' }),
    ).toThrow(/^GATEHOUSE_ALLOW_INSECURE_REQUESTS: expected 1, true, 0 or false/)
    for (const off of ['0', 'false']) {
      expect(() =>
        optionsFromEnv({ ...env, GATEHOUSE_ISSUER: http, GATEHOUSE_ALLOW_INSECURE_REQUESTS: off }),
      ).toThrow(/^GATEHOUSE_ISSUER:/)
    }
  })

  it('createRemoteKeySet, discoverKeySet and discover refuse it too', async () => {
    expect(() => createRemoteKeySet(`${http}/certs`)).toThrow(/^url: expected an https URL/)
    expect(() => discoverKeySet(http)).toThrow(/^issuer: expected an https URL/)
    await expect(discover(http)).rejects.toThrow(/^issuer: expected an https URL/)
  })
})

describe('allowInsecureRequests: the explicit opt-out for a development network', () => {
  it('a verifier discovers and fetches over http, and warns once naming the host', async () => {
    const host = devHost()
    const said = warnings()
    const { server, issuer, fetch } = await devIssuer(host)
    const options = {
      issuer,
      audience: AUDIENCE,
      discovery: true,
      keySet: { allowInsecureRequests: true, fetch },
      now: () => NOW * 1000,
    }
    const verifier = createVerifier(options)
    cleanup.push(() => verifier.close())
    expect(said()).toHaveLength(1)
    expect(said()[0]).toContain(host)
    expect(said()[0]).toContain('plain http')
    expect(server.requests).toHaveLength(0) // warned at construction, before any request

    const { claims } = await verifier.verify(await mint({ iss: issuer }, {}, key))
    expect(claims.iss).toBe(issuer)
    expect(server.hits('/realms/dev/protocol/openid-connect/certs')).toBe(1)
    createVerifier(options).close()
    expect(said()).toHaveLength(1) // once per host
  })

  it('GATEHOUSE_ALLOW_INSECURE_REQUESTS=1 sets it from the environment', async () => {
    const host = devHost()
    const said = warnings()
    const { issuer, fetch } = await devIssuer(host)
    for (const on of ['1', 'true', 'TRUE']) {
      const options = optionsFromEnv({
        GATEHOUSE_ISSUER: issuer,
        GATEHOUSE_AUDIENCE: AUDIENCE,
        GATEHOUSE_ALLOW_INSECURE_REQUESTS: on,
      })
      expect(options.keySet).toEqual({ allowInsecureRequests: true })
      expect(options.discovery).toBe('auto')
    }
    expect(said().filter((message) => message.includes(host))).toHaveLength(1)
    const fromEnv = optionsFromEnv({
      GATEHOUSE_ISSUER: issuer,
      GATEHOUSE_AUDIENCE: AUDIENCE,
      GATEHOUSE_ALLOW_INSECURE_REQUESTS: '1',
    })
    const verifier = createVerifier({
      ...fromEnv,
      keySet: { ...fromEnv.keySet, fetch },
      now: () => NOW * 1000,
    })
    cleanup.push(() => verifier.close())
    expect((await verifier.verify(await mint({ iss: issuer }, {}, key))).claims.iss).toBe(issuer)
  })

  it('createRemoteKeySet and discover accept http with it, and still refuse other schemes', async () => {
    const host = devHost()
    const said = warnings()
    const { issuer, fetch } = await devIssuer(host)
    const metadata = await discover(issuer, { allowInsecureRequests: true, fetch })
    expect(metadata.jwks_uri).toBe(`${issuer}/protocol/openid-connect/certs`)
    const keys = createRemoteKeySet(metadata.jwks_uri, { allowInsecureRequests: true, fetch })
    cleanup.push(() => keys.close())
    expect((await keys.get({ alg: 'ES256', kid: 'dev' })).kid).toBe('dev')
    expect(said().filter((message) => message.includes(host))).toHaveLength(1)
    expect(() => createRemoteKeySet(`ftp://${host}/certs`, { allowInsecureRequests: true })).toThrow(
      TypeError,
    )
  })

  it('an http jwks_uri in https metadata is refused without it', async () => {
    const server = await startJwksServer()
    cleanup.push(() => server.close())
    server.set('/.well-known/openid-configuration', {
      json: { issuer: server.origin, jwks_uri: 'http://keys.test/certs' },
    })
    const error = await discover(server.origin).catch((e: Error) => e)
    expect(String((error.cause as Error).message)).toContain('"jwks_uri" must be an https URL')
  })
})
