/**
 * The CLI's transport decision (src/cli/transport.ts) is the core's rule, and readConfig tells a refused
 * plain-http URL apart from any other configuration error. End to end: insecure-http.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { InsecureUrlError, readConfig } from '../../src/cli/config.js'
import { UsageError } from '../../src/cli/context.js'
import { sourceUrl, transportOf } from '../../src/cli/transport.js'

// The core reports each host accepted over plain http once with process.emitWarning: keep it off the output.
let warning: ReturnType<typeof vi.spyOn>
beforeEach(() => {
  warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
})
afterEach(() => {
  vi.restoreAllMocks()
})

describe('transportOf', () => {
  it.each([
    ['https://idp.example.com/realms/dev', false, 'protected'],
    ['http://127.0.0.1:9000', false, 'protected'],
    ['http://localhost:9000', false, 'protected'],
    ['http://[::1]:9000', false, 'protected'],
    ['http://keycloak-transport-1.test:8080/realms/dev', false, 'refused'],
    ['http://10.0.0.7/jwks', false, 'refused'],
    ['http://localhost.example.com/jwks', false, 'refused'],
    ['http://keycloak-transport-2.test:8080/realms/dev', true, 'insecure'],
    ['ftp://idp.example.com/jwks', true, 'refused'],
  ] as const)('%s (allowInsecureRequests %s): %s', (url, allow, expected) => {
    expect(transportOf(new URL(url), allow)).toBe(expected)
    expect(warning).toHaveBeenCalledTimes(expected === 'insecure' ? 1 : 0)
  })
})

describe('sourceUrl: the first URL the verifier fetches', () => {
  it('the JWKS URL when configured, else the issuer, else https://{domain}', () => {
    expect(sourceUrl({ issuer: 'http://a.test/', jwksUri: 'https://b.test/jwks' })?.href).toBe(
      'https://b.test/jwks',
    )
    expect(sourceUrl({ issuer: ['http://a.test/x', 'https://c.test'] })?.href).toBe('http://a.test/x')
    expect(sourceUrl({ domain: 'tenant.example.com' })?.href).toBe('https://tenant.example.com/')
    expect(sourceUrl({ issuer: 'http://a.test/', keys: { keys: [] } })).toBeUndefined()
  })
})

describe('readConfig and plain http off loopback', () => {
  const env = (vars: Record<string, string>) => ({ GATEHOUSE_AUDIENCE: 'api', ...vars })

  it('refused: an InsecureUrlError naming the flag, the variable and the opt-out', () => {
    const read = () => readConfig({}, env({ GATEHOUSE_ISSUER: 'http://keycloak.test:8080/realms/dev' }), true)
    expect(read).toThrow(InsecureUrlError)
    expect(read).toThrow(
      /^--issuer \/ GATEHOUSE_ISSUER: http:\/\/keycloak\.test:8080\/realms\/dev is plain http/,
    )
    expect(read).toThrow(/set GATEHOUSE_ALLOW_INSECURE_REQUESTS=1 \(or --allow-insecure-requests\)$/)
    const jwks = () =>
      readConfig({ issuer: 'https://id.test/', 'jwks-url': 'http://keys.test/jwks' }, env({}), true)
    expect(jwks).toThrow(expect.objectContaining({ variable: 'GATEHOUSE_JWKS_URL' }))
  })

  it('the opt-out, from the variable or the flag, lets it through', () => {
    const issuer = 'http://keycloak-config.test:8080/realms/dev'
    const fromEnv = readConfig(
      {},
      env({ GATEHOUSE_ISSUER: issuer, GATEHOUSE_ALLOW_INSECURE_REQUESTS: '1' }),
      true,
    )
    expect(fromEnv.options?.keySet?.allowInsecureRequests).toBe(true)
    const fromFlag = readConfig({ issuer, 'allow-insecure-requests': true }, env({}), true)
    expect(fromFlag.options?.keySet?.allowInsecureRequests).toBe(true)
  })

  it('another error stays a plain usage error, even beside an http issuer that is never fetched', () => {
    const read = () =>
      readConfig(
        {},
        env({
          GATEHOUSE_ISSUER: 'http://keycloak.test:8080/realms/dev',
          GATEHOUSE_JWKS_URL: 'https://keys.test/jwks',
          GATEHOUSE_ALGORITHMS: 'HS256',
        }),
        true,
      )
    expect(read).toThrow(UsageError)
    expect(read).not.toThrow(InsecureUrlError)
    expect(read).toThrow(/GATEHOUSE_ALGORITHMS/)
  })
})
