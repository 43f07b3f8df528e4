/**
 * Presets that take a URL (Keycloak's `url`, an `issuer`, a `jwksUri`) and plain http off loopback: refused
 * when the preset is called, naming the way out; accepted with the preset's own `allowInsecureRequests`,
 * which reaches the verifier, and reported once per host as the verifier does.
 *
 * No test can reach a non-loopback http host, so the opt-out is exercised end to end through the `fetch`
 * option, as a proxy would: every request for the development host goes to a real server on 127.0.0.1.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createClaimsReader } from '../../../src/core/authz/claims-reader.js'
import { optionsFromEnv } from '../../../src/core/config/env.js'
import {
  auth0,
  authaction,
  generic,
  keycloak,
  okta,
  type PresetResult,
  zitadel,
} from '../../../src/core/presets/index.js'
import { createVerifier } from '../../../src/core/verify/verifier.js'
import { startJwksServer } from '../../helpers/jwks-server.js'
import { AUDIENCE, jwksOf, mint, NOW, rejection, type TestKey, testKey } from '../../helpers/tokens.js'

let key: TestKey
beforeAll(async () => {
  key = await testKey('RS256', 'dev')
})

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const step of cleanup.splice(0).reverse()) await step()
})

/** Each test uses its own host: the warning is given once per host and process. */
let hosts = 0
const devHost = (name: string) => `${name}-${++hosts}.test:8080`

/**
 * A server on 127.0.0.1 that answers for `http://{host}`: `keysPath` serves the test key, and with
 * `metadataOf` the OpenID Connect metadata of that issuer names it. `fetch` routes the host to it.
 */
async function devServer(host: string, keysPath: string, metadataOf?: string) {
  const server = await startJwksServer()
  cleanup.push(() => server.close())
  server.set(keysPath, { json: jwksOf(key) })
  if (metadataOf !== undefined) {
    const path = `${new URL(metadataOf).pathname.replace(/\/$/, '')}/.well-known/openid-configuration`
    server.set(path, { json: { issuer: metadataOf, jwks_uri: `http://${host}${keysPath}` } })
  }
  const routed: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    if (url.host !== host) throw new Error(`unexpected host ${url.host}`)
    return fetch(`${server.origin}${url.pathname}${url.search}`, init)
  }
  return { server, fetch: routed }
}

/** Capture `process.emitWarning`; the result reads the messages given so far. */
function warnings(): () => string[] {
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
  return () => spy.mock.calls.map((call) => String(call[0]))
}

function verifierOf(preset: PresetResult, fetch: typeof globalThis.fetch) {
  const verifier = createVerifier({ ...preset, keySet: { ...preset.keySet, fetch }, now: () => NOW * 1000 })
  cleanup.push(() => verifier.close())
  return verifier
}

describe('refused when the preset is called, without allowInsecureRequests', () => {
  const url = 'http://keycloak.test:8080'

  it.each<[string, () => unknown, RegExp]>([
    ['keycloak url', () => keycloak({ url, realm: 'dev', clientId: 'api' }), /^keycloak\.url: /],
    [
      'keycloak baseUrl',
      () => keycloak({ baseUrl: url, realm: 'dev', clientId: 'api' }),
      /^keycloak\.baseUrl: /,
    ],
    [
      'keycloak with allowInsecureRequests: false',
      () => keycloak({ url, realm: 'dev', clientId: 'api', allowInsecureRequests: false }),
      /^keycloak\.url: /,
    ],
    [
      'okta issuer',
      () => okta({ issuer: 'http://okta.test:8080/oauth2/default', audience: AUDIENCE }),
      /^okta\.issuer: /,
    ],
    [
      'zitadel issuer',
      () => zitadel({ issuer: 'http://zitadel.test:8080', audience: AUDIENCE }),
      /^zitadel\.issuer: /,
    ],
  ])('%s', (_what, make, option) => {
    expect(make).toThrow(TypeError)
    expect(make).toThrow(option)
    expect(make).toThrow(/expected an https URL.*allowInsecureRequests/) // the way out is named
  })

  it('generic leaves URLs to the verifier, which refuses them the same way', () => {
    const make = (options: Parameters<typeof generic>[0]) => () => createVerifier(generic(options))
    expect(make({ issuer: `${url}/realms/dev`, audience: AUDIENCE })).toThrow(
      /^issuer: expected an https URL.*allowInsecureRequests/,
    )
    expect(make({ issuer: 'https://id.example.com', audience: AUDIENCE, jwksUri: `${url}/certs` })).toThrow(
      /^jwksUri: expected an https URL.*allowInsecureRequests/,
    )
  })

  it('an option that is not a boolean, or that could do nothing, is a TypeError naming it', () => {
    expect(() =>
      keycloak({ url, realm: 'dev', clientId: 'api', allowInsecureRequests: 'yes' as never }),
    ).toThrow(/^keycloak\.allowInsecureRequests: expected a boolean/)
    expect(() => generic({ issuer: url, audience: AUDIENCE, allowInsecureRequests: 1 as never })).toThrow(
      /^generic\.allowInsecureRequests: expected a boolean/,
    )
    // A domain always gives an https issuer: the opt-out there would be a silent no-op.
    expect(() =>
      okta({ domain: 'dev-123456.okta.com', audience: AUDIENCE, allowInsecureRequests: true }),
    ).toThrow(/^okta\.allowInsecureRequests: a domain always gives an https issuer/)
    expect(() =>
      zitadel({ domain: 'zitadel.example.com', audience: AUDIENCE, allowInsecureRequests: true }),
    ).toThrow(/^zitadel\.allowInsecureRequests: a domain always gives an https issuer/)
    for (const make of [auth0, authaction]) {
      expect(() =>
        make({ domain: 'tenant.example.com', audience: AUDIENCE, allowInsecureRequests: true } as never),
      ).toThrow(/\.allowInsecureRequests: unknown option/)
    }
  })

  it('other schemes stay refused with it', () => {
    expect(() =>
      keycloak({ url: 'ftp://keycloak.test', realm: 'dev', clientId: 'api', allowInsecureRequests: true }),
    ).toThrow(/^keycloak\.url: expected an https URL/)
  })

  it('http on a loopback host needs no opt-out and is not reported', async () => {
    const said = warnings()
    const server = await startJwksServer({
      '/realms/dev/protocol/openid-connect/certs': { json: jwksOf(key) },
    })
    cleanup.push(() => server.close())
    const preset = keycloak({ url: server.origin, realm: 'dev', clientId: 'api' })
    expect(preset).not.toHaveProperty('keySet')
    const verifier = verifierOf(preset, fetch)
    const iss = `${server.origin}/realms/dev`
    expect((await verifier.verify(await mint({ iss, azp: 'api', typ: 'Bearer' }, {}, key))).claims.iss).toBe(
      iss,
    )
    expect(said()).toEqual([])
  })
})

describe('allowInsecureRequests: true on a development network', () => {
  it('keycloak: the certs URL over http; warned once, when the preset is called; checks still apply', async () => {
    const host = devHost('keycloak')
    const said = warnings()
    const { server, fetch } = await devServer(host, '/realms/dev/protocol/openid-connect/certs')
    const preset = keycloak({
      url: `http://${host}`,
      realm: 'dev',
      clientId: 'shop-api',
      allowInsecureRequests: true,
    })
    const iss = `http://${host}/realms/dev`
    expect(preset).toMatchObject({
      issuer: iss,
      jwksUri: `${iss}/protocol/openid-connect/certs`,
      keySet: { allowInsecureRequests: true },
    })
    expect(said()).toHaveLength(1)
    expect(said()[0]).toContain(host)
    expect(said()[0]).toContain('plain http')

    const verifier = verifierOf(preset, fetch)
    const { claims } = await verifier.verify(
      await mint({ iss, azp: 'shop-api', typ: 'Bearer', realm_access: { roles: ['admin'] } }, {}, key),
    )
    expect(claims.iss).toBe(iss)
    expect([...createClaimsReader(preset.claims)(claims).roles]).toEqual(['admin'])
    expect(server.hits('/realms/dev/protocol/openid-connect/certs')).toBe(1)
    expect(
      await rejection(verifier.verify(await mint({ iss, azp: 'other', typ: 'Bearer' }, {}, key))),
    ).toMatchObject({ code: 'ERR_JWT_CLAIM_INVALID' })
    expect(
      await rejection(verifier.verify(await mint({ iss, azp: 'shop-api', typ: 'ID' }, {}, key))),
    ).toMatchObject({
      code: 'ERR_JWT_NOT_ACCESS_TOKEN',
    })
    expect(said()).toHaveLength(1) // the verifier does not report the host again
  })

  it('keycloak with discovery: true reads the realm metadata over http', async () => {
    const host = devHost('keycloak')
    const said = warnings()
    const iss = `http://${host}/realms/dev`
    const certs = '/realms/dev/protocol/openid-connect/certs'
    const { server, fetch } = await devServer(host, certs, iss)
    const preset = keycloak({
      baseUrl: `http://${host}`,
      realm: 'dev',
      clientId: 'shop-api',
      discovery: true,
      allowInsecureRequests: true,
    })
    const verifier = verifierOf(preset, fetch)
    expect((await verifier.verify(await mint({ iss, azp: 'shop-api' }, {}, key))).claims.iss).toBe(iss)
    expect(server.hits('/realms/dev/.well-known/openid-configuration')).toBe(1)
    expect(server.hits(certs)).toBe(1)
    expect(said().filter((message) => message.includes(host))).toHaveLength(1)
  })

  it.each<
    [string, (host: string) => { preset: PresetResult; iss: string; keysPath: string; metadata?: boolean }]
  >([
    [
      'okta issuer',
      (host) => ({
        preset: okta({
          issuer: `http://${host}/oauth2/default`,
          audience: AUDIENCE,
          allowInsecureRequests: true,
        }),
        iss: `http://${host}/oauth2/default`,
        keysPath: '/oauth2/default/v1/keys',
      }),
    ],
    [
      'zitadel issuer',
      (host) => ({
        preset: zitadel({ issuer: `http://${host}`, audience: AUDIENCE, allowInsecureRequests: true }),
        iss: `http://${host}`,
        keysPath: '/oauth/v2/keys',
      }),
    ],
    [
      'generic issuer (discovery auto)',
      (host) => ({
        preset: generic({
          issuer: `http://${host}/realms/dev`,
          audience: AUDIENCE,
          allowInsecureRequests: true,
        }),
        iss: `http://${host}/realms/dev`,
        keysPath: '/realms/dev/protocol/openid-connect/certs',
        metadata: true,
      }),
    ],
    [
      'generic jwksUri',
      (host) => ({
        preset: generic({
          issuer: 'https://id.example.com',
          audience: AUDIENCE,
          jwksUri: `http://${host}/certs`,
          allowInsecureRequests: true,
        }),
        iss: 'https://id.example.com',
        keysPath: '/certs',
      }),
    ],
  ])('%s', async (name, make) => {
    const host = devHost(name.split(' ')[0]!)
    const said = warnings()
    const { preset, iss, keysPath, metadata } = make(host)
    expect(preset.keySet).toEqual({ allowInsecureRequests: true })
    const { server, fetch } = await devServer(host, keysPath, metadata ? iss : undefined)
    const verifier = verifierOf(preset, fetch)
    expect((await verifier.verify(await mint({ iss }, {}, key))).claims.iss).toBe(iss)
    expect(server.hits(keysPath)).toBe(1)
    expect(said().filter((message) => message.includes(host))).toHaveLength(1)
  })
})

describe('from the environment', () => {
  it('a Keycloak realm over http with GATEHOUSE_ALLOW_INSECURE_REQUESTS=1', async () => {
    const host = devHost('keycloak')
    const said = warnings()
    const iss = `http://${host}/realms/dev`
    const certs = '/realms/dev/protocol/openid-connect/certs'
    const { server, fetch } = await devServer(host, certs, iss)
    const env = {
      GATEHOUSE_ISSUER: iss,
      GATEHOUSE_AUDIENCE: AUDIENCE,
      GATEHOUSE_ROLES_CLAIM: '/realm_access/roles',
    }
    expect(() => optionsFromEnv(env)).toThrow(/^GATEHOUSE_ISSUER: .*GATEHOUSE_ALLOW_INSECURE_REQUESTS=1/)
    const options = optionsFromEnv({ ...env, GATEHOUSE_ALLOW_INSECURE_REQUESTS: '1' })
    const verifier = createVerifier({
      ...options,
      keySet: { ...options.keySet, fetch },
      now: () => NOW * 1000,
    })
    cleanup.push(() => verifier.close())
    const { claims } = await verifier.verify(await mint({ iss, realm_access: { roles: ['admin'] } }, {}, key))
    expect([...createClaimsReader(options.claims)(claims).roles]).toEqual(['admin'])
    expect(server.hits('/realms/dev/.well-known/openid-configuration')).toBe(1)
    expect(said().filter((message) => message.includes(host))).toHaveLength(1)
  })
})
