import { generateKeyPairSync } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import { discover, discoverKeySet, discoveryUrls, NoMetadataError } from '../../../src/core/keys/discovery.js'
import { createRemoteKeySet } from '../../../src/core/keys/remote.js'
import { createVerifier } from '../../../src/core/verify/verifier.js'
import { type JwksServer, startJwksServer } from '../../helpers/jwks-server.js'
import { AUDIENCE, jwksOf, mint, NOW, testKey } from '../../helpers/tokens.js'

const OIDC = '/.well-known/openid-configuration'
const RFC8414 = '/.well-known/oauth-authorization-server'

const servers: JwksServer[] = []
async function serve(): Promise<JwksServer> {
  const server = await startJwksServer()
  servers.push(server)
  return server
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

/** The rejection of `promise`, which must be ERR_DISCOVERY_FAILED; returns the message of its cause. */
async function discoveryFailure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toBeInstanceOf(GatehouseError)
  expect((error as GatehouseError).code).toBe('ERR_DISCOVERY_FAILED')
  expect((error as GatehouseError).status).toBe(503)
  expect((error as GatehouseError).description).toBe('Reading the authorization server metadata failed')
  return ((error as GatehouseError).cause as Error).message
}

describe('discoveryUrls', () => {
  it.each([
    [
      'https://id.example.com',
      'https://id.example.com/.well-known/openid-configuration',
      'https://id.example.com/.well-known/oauth-authorization-server',
    ],
    [
      'https://id.example.com/',
      'https://id.example.com/.well-known/openid-configuration',
      'https://id.example.com/.well-known/oauth-authorization-server',
    ],
    [
      'https://id.example.com/realms/x',
      'https://id.example.com/realms/x/.well-known/openid-configuration',
      'https://id.example.com/.well-known/oauth-authorization-server/realms/x',
    ],
    [
      'https://id.example.com:8443/realms/x/',
      'https://id.example.com:8443/realms/x/.well-known/openid-configuration',
      'https://id.example.com:8443/.well-known/oauth-authorization-server/realms/x',
    ],
  ])('%s → OIDC appends, RFC 8414 §3.1 inserts', (issuer, oidc, rfc8414) => {
    expect(discoveryUrls(issuer).map(String)).toEqual([oidc, rfc8414])
  })

  it.each([
    ['http://id.example.com', 'https URL'],
    ['https://id.example.com/?tenant=x', 'without query or fragment'],
    ['https://id.example.com/#x', 'without query or fragment'],
    ['id.example.com', 'absolute URL'],
  ])('refuses the issuer %s with a TypeError', (issuer, message) => {
    expect(() => discoveryUrls(issuer)).toThrow(TypeError)
    expect(() => discoveryUrls(issuer)).toThrow(message)
  })

  it('validates the fetch options like the key store', async () => {
    await expect(discover('https://id.example.com', { timeoutDuration: -1 })).rejects.toThrow(
      'timeoutDuration: expected a positive',
    )
  })
})

describe('discover', () => {
  it('reads OpenID Connect metadata for an issuer without a path', async () => {
    const server = await serve()
    const issuer = server.origin
    server.set(OIDC, { json: { issuer, jwks_uri: `${issuer}/keys`, token_endpoint: `${issuer}/token` } })
    const metadata = await discover(issuer)
    expect(metadata.jwks_uri).toBe(`${issuer}/keys`)
    expect(metadata.token_endpoint).toBe(`${issuer}/token`)
    expect(server.requests).toHaveLength(1)
    expect(server.requests[0]?.headers.accept).toBe('application/json')
  })

  it('appends the OIDC path to an issuer with a path', async () => {
    const server = await serve()
    const issuer = `${server.origin}/realms/x`
    server.set(`/realms/x${OIDC}`, { json: { issuer, jwks_uri: `${issuer}/certs` } })
    expect((await discover(issuer)).jwks_uri).toBe(`${issuer}/certs`)
  })

  it('falls back to RFC 8414, inserted between host and path, when OIDC has nothing', async () => {
    const server = await serve()
    const issuer = `${server.origin}/realms/x`
    server.set(`${RFC8414}/realms/x`, { json: { issuer, jwks_uri: `${issuer}/certs` } })
    expect((await discover(issuer)).jwks_uri).toBe(`${issuer}/certs`)
    expect(server.requests.map((r) => r.path)).toEqual([`/realms/x${OIDC}`, `${RFC8414}/realms/x`])
  })

  it('falls back when the OIDC location answers 200 with something that is not JSON', async () => {
    const server = await serve()
    const issuer = server.origin
    server.set(OIDC, { body: '<!doctype html><p>single-page app</p>' })
    server.set(RFC8414, { json: { issuer, jwks_uri: `${issuer}/jwks` } })
    expect((await discover(issuer)).jwks_uri).toBe(`${issuer}/jwks`)
  })

  it('reports both URLs when neither answers, as a NoMetadataError cause', async () => {
    const server = await serve()
    const error = await discover(`${server.origin}/tenant`).catch((err: GatehouseError) => err)
    expect((error as GatehouseError).cause).toBeInstanceOf(NoMetadataError)
    expect(((error as GatehouseError).cause as NoMetadataError).errors).toHaveLength(2)
    const message = await discoveryFailure(discover(`${server.origin}/tenant`))
    expect(message).toContain(`${server.origin}/tenant${OIDC}`)
    expect(message).toContain(`${server.origin}${RFC8414}/tenant`)
    expect(message).toContain('HTTP 404')
  })

  it('refuses an issuer that differs by a trailing slash, naming both values and the fix', async () => {
    const server = await serve()
    server.set(OIDC, { json: { issuer: server.origin, jwks_uri: `${server.origin}/jwks` } })
    const configured = `${server.origin}/`
    const message = await discoveryFailure(discover(configured))
    expect(message).toContain(`"${server.origin}"`)
    expect(message).toContain(`"${configured}"`)
    expect(message).toContain(`configure issuer as "${server.origin}"`)
    const error = await discover(configured).catch((err: GatehouseError) => err)
    expect((error as GatehouseError).cause).not.toBeInstanceOf(NoMetadataError) // conclusive: never fall back
    expect(server.requests).toHaveLength(2) // one per discover() call: a document that answers is conclusive
  })

  it.each([
    ['missing', undefined, 'no string "jwks_uri"'],
    ['not a string', 42, 'no string "jwks_uri"'],
    ['relative', '/jwks', 'not an absolute URL'],
    ['plain http off loopback', 'http://id.example.com/jwks', 'must be an https URL'],
  ])('refuses a jwks_uri that is %s', async (_, jwksUri, fragment) => {
    const server = await serve()
    server.set(OIDC, { json: { issuer: server.origin, jwks_uri: jwksUri } })
    expect(await discoveryFailure(discover(server.origin))).toContain(fragment)
  })

  it('refuses a metadata document that is not a JSON object', async () => {
    const server = await serve()
    server.set(OIDC, { json: [server.origin] })
    expect(await discoveryFailure(discover(server.origin))).toContain('not a JSON object')
  })

  it('bounds time and size, and does not follow redirects', async () => {
    const server = await serve()
    server.set(OIDC, 'hang')
    server.set(RFC8414, { status: 301, body: '', headers: { location: '/elsewhere' } })
    const started = Date.now()
    const message = await discoveryFailure(discover(server.origin, { timeoutDuration: 150 }))
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(message).toContain('within 150 ms')
    server.set(OIDC, {
      json: { issuer: server.origin, jwks_uri: `${server.origin}/jwks`, pad: 'x'.repeat(3_000) },
    })
    server.set(RFC8414, { status: 500, body: '' })
    expect(await discoveryFailure(discover(server.origin, { maxResponseSize: 1_000 }))).toContain(
      'more than 1000 bytes',
    )
  })

  it('gives each location its own timeout: RFC 8414 answers while the OIDC location hangs', async () => {
    const server = await serve()
    const issuer = `${server.origin}/realms/x`
    server.set(`/realms/x${OIDC}`, 'hang')
    server.set(`${RFC8414}/realms/x`, { json: { issuer, jwks_uri: `${issuer}/certs` } })
    const started = Date.now()
    expect((await discover(issuer, { timeoutDuration: 400 })).jwks_uri).toBe(`${issuer}/certs`)
    expect(Date.now() - started).toBeGreaterThanOrEqual(390)
  })

  it('a key store fed by discovery reaches the RFC 8414 location when the OIDC one hangs', async () => {
    const server = await serve()
    const issuer = server.origin
    const jwk = { ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'k1' }
    server.set(OIDC, 'hang')
    server.set(RFC8414, { json: { issuer, jwks_uri: `${issuer}/certs` } })
    server.set('/certs', { json: { keys: [jwk] } })
    const options = { timeoutDuration: 500 }
    const keys = createRemoteKeySet(
      () => discover(issuer, options).then((metadata) => new URL(metadata.jwks_uri)),
      options,
    )
    try {
      expect((await keys.get({ alg: 'EdDSA', kid: 'k1' })).kid).toBe('k1')
      expect(server.requests.map((r) => r.path)).toEqual([OIDC, RFC8414, '/certs'])
    } finally {
      keys.close()
    }
  })

  it('a verifier with discovery accepts tokens when the OIDC location hangs and RFC 8414 answers', async () => {
    const server = await serve()
    const issuer = `${server.origin}/tenant`
    const key = await testKey('ES256', 'rfc8414')
    server.set(`/tenant${OIDC}`, 'hang')
    server.set(`${RFC8414}/tenant`, { json: { issuer, jwks_uri: `${issuer}/keys` } })
    server.set('/tenant/keys', { json: jwksOf(key) })
    const verifier = createVerifier({
      issuer,
      audience: AUDIENCE,
      discovery: true,
      keySet: { timeoutDuration: 500 },
      now: () => NOW * 1000,
    })
    try {
      const { claims } = await verifier.verify(await mint({ iss: issuer }, {}, key))
      expect(claims.iss).toBe(issuer)
      expect(server.hits(`${RFC8414}/tenant`)).toBe(1)
    } finally {
      verifier.close()
    }
  })

  it('feeds the remote key store lazily, once', async () => {
    const server = await serve()
    const issuer = server.origin
    const jwk = { ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'k1' }
    server.set(OIDC, { json: { issuer, jwks_uri: `${issuer}/certs` } })
    server.set('/certs', { json: { keys: [jwk] } })
    const keys = createRemoteKeySet(() => discover(issuer).then((metadata) => new URL(metadata.jwks_uri)))
    try {
      expect(server.requests).toHaveLength(0)
      expect((await keys.get({ alg: 'EdDSA', kid: 'k1' })).kid).toBe('k1')
      await keys.refresh()
      expect(server.hits(OIDC)).toBe(1)
      expect(server.hits('/certs')).toBe(2)
    } finally {
      keys.close()
    }
  })

  it('turns a discovery failure into ERR_JWKS_UNAVAILABLE with the discovery error as cause', async () => {
    const server = await serve()
    const keys = createRemoteKeySet(() =>
      discover(server.origin).then((metadata) => new URL(metadata.jwks_uri)),
    )
    try {
      const error = await keys.get({ alg: 'EdDSA', kid: 'k1' }).catch((err: GatehouseError) => err)
      expect((error as GatehouseError).code).toBe('ERR_JWKS_UNAVAILABLE')
      expect(((error as GatehouseError).cause as GatehouseError).code).toBe('ERR_DISCOVERY_FAILED')
    } finally {
      keys.close()
    }
  })
})

describe('discoverKeySet', () => {
  const edKey = () => ({ ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'k1' })

  it('discovers at the first fetch, once, and serves a verifier given it as keys', async () => {
    const server = await serve()
    const issuer = `${server.origin}/tenant`
    const key = await testKey('ES256', 'discovered')
    server.set(`/tenant${OIDC}`, { json: { issuer, jwks_uri: `${issuer}/certs` } })
    server.set('/tenant/certs', { json: jwksOf(key) })
    const keys = discoverKeySet(issuer, { timeoutDuration: 500 })
    const verifier = createVerifier({ issuer, audience: AUDIENCE, keys, now: () => NOW * 1000 })
    try {
      expect(server.requests).toHaveLength(0)
      await verifier.verify(await mint({ iss: issuer }, {}, key))
      await keys.refresh()
      expect(server.hits(`/tenant${OIDC}`)).toBe(1)
      expect(server.hits('/tenant/certs')).toBe(2)
    } finally {
      verifier.close()
      keys.close()
    }
  })

  it('with fallback, uses {issuer}/.well-known/jwks.json when no metadata document exists', async () => {
    const server = await serve()
    server.set('/.well-known/jwks.json', { json: { keys: [edKey()] } })
    const strict = discoverKeySet(server.origin)
    const lenient = discoverKeySet(server.origin, { fallback: true })
    try {
      const error = (await strict.get({ alg: 'EdDSA', kid: 'k1' }).catch((e: unknown) => e)) as GatehouseError
      expect(error.code).toBe('ERR_JWKS_UNAVAILABLE')
      expect((error.cause as GatehouseError).code).toBe('ERR_DISCOVERY_FAILED')
      expect((await lenient.get({ alg: 'EdDSA', kid: 'k1' })).kid).toBe('k1')
    } finally {
      strict.close()
      lenient.close()
    }
  })

  it('with fallback, still fails on a document naming another issuer', async () => {
    const server = await serve()
    server.set(OIDC, { json: { issuer: `${server.origin}/`, jwks_uri: `${server.origin}/certs` } })
    server.set('/.well-known/jwks.json', { json: { keys: [edKey()] } })
    const keys = discoverKeySet(server.origin, { fallback: true })
    try {
      const error = (await keys.get({ alg: 'EdDSA', kid: 'k1' }).catch((e: unknown) => e)) as GatehouseError
      expect(error.code).toBe('ERR_JWKS_UNAVAILABLE')
      expect(server.hits('/.well-known/jwks.json')).toBe(0)
    } finally {
      keys.close()
    }
  })

  it.each<[string, () => unknown, RegExp]>([
    [
      'fallback not a boolean',
      () => discoverKeySet('https://id.example.com', { fallback: 'auto' as never }),
      /^fallback:/,
    ],
    [
      'a malformed key set option',
      () => discoverKeySet('https://id.example.com', { cooldownDuration: -1 }),
      /^cooldownDuration:/,
    ],
    [
      'an unknown option',
      () => discoverKeySet('https://id.example.com', { timeout: 5 } as never),
      /^timeout: unknown option/,
    ],
    ['an issuer with a query', () => discoverKeySet('https://id.example.com/?x=1'), /^issuer:.*query/],
  ])('refuses %s with a TypeError naming it', (_why, make, message) => {
    expect(make).toThrow(TypeError)
    expect(make).toThrow(message)
  })
})
