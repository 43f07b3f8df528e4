/**
 * The CLI's configuration of token introspection: flags over GATEHOUSE_* variables, read by the core's
 * `optionsFromEnv`, and what the gate refuses at start-up refused here too. No network.
 */
import { describe, expect, it } from 'vitest'
import { InsecureUrlError, readConfig } from '../../src/cli/config.js'
import { UsageError } from '../../src/cli/context.js'

const ISSUER = { GATEHOUSE_ISSUER: 'https://id.example.com/', GATEHOUSE_AUDIENCE: 'https://api.example.com' }
const SECRET = 'a-client-secret-never-shown'

function usageError(run: () => unknown): UsageError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return error as UsageError
  }
  throw new Error('expected a UsageError')
}

describe('readConfig: introspection', () => {
  it('off without client credentials; the verifier options as before', () => {
    const config = readConfig({}, ISSUER, true)
    expect(config.introspection).toBeUndefined()
    expect(config.options?.issuer).toBe(ISSUER.GATEHOUSE_ISSUER)
  })

  it('GATEHOUSE_CLIENT_ID and _SECRET: on, the endpoint to be discovered, token source auto', () => {
    const config = readConfig(
      {},
      { ...ISSUER, GATEHOUSE_CLIENT_ID: 'orders-api', GATEHOUSE_CLIENT_SECRET: SECRET },
      true,
    )
    expect(config.introspection).toEqual({
      url: undefined,
      clientId: 'orders-api',
      clientSecret: SECRET,
      allowInsecureRequests: false,
      tokenSource: 'auto',
    })
  })

  it('flags override the variables: --client-id, --introspection-url, --token-source', () => {
    const config = readConfig(
      {
        'client-id': 'from-flag',
        'introspection-url': 'https://id.example.com/oauth2/introspect',
        'token-source': 'introspection',
      },
      {
        ...ISSUER,
        GATEHOUSE_CLIENT_ID: 'from-env',
        GATEHOUSE_CLIENT_SECRET: SECRET,
        GATEHOUSE_INTROSPECTION_URL: 'https://elsewhere.example.com/introspect',
      },
      true,
    )
    expect(config.introspection).toMatchObject({
      clientId: 'from-flag',
      url: new URL('https://id.example.com/oauth2/introspect'),
      tokenSource: 'introspection',
    })
  })

  it('--allow-insecure-requests applies to the endpoint too', () => {
    const config = readConfig(
      { 'client-id': 'api', 'allow-insecure-requests': true },
      { ...ISSUER, GATEHOUSE_CLIENT_SECRET: SECRET },
      true,
    )
    expect(config.introspection?.allowInsecureRequests).toBe(true)
  })

  it('a client id without a secret: a usage error naming the variable, never a secret', () => {
    const error = usageError(() => readConfig({ 'client-id': 'api' }, ISSUER, true))
    expect(error.message).toMatch(/^GATEHOUSE_CLIENT_SECRET: expected the client secret/)
  })

  it('token source jwt with credentials, or introspection without: refused as the gate refuses them', () => {
    const jwt = usageError(() =>
      readConfig(
        { 'token-source': 'jwt' },
        { ...ISSUER, GATEHOUSE_CLIENT_ID: 'api', GATEHOUSE_CLIENT_SECRET: SECRET },
        true,
      ),
    )
    expect(jwt.message).toMatch(/^--token-source \/ GATEHOUSE_TOKEN_SOURCE: /)
    expect(jwt.message).not.toContain(SECRET)
    const without = usageError(() => readConfig({}, { ...ISSUER, GATEHOUSE_TOKEN_SOURCE: 'auto' }, true))
    expect(without.message).toMatch(
      /^--client-id \/ GATEHOUSE_CLIENT_ID: .*--token-source \/ GATEHOUSE_TOKEN_SOURCE/,
    )
  })

  it('an endpoint over plain http off loopback: refused with the reason the CLI gives, the opt-out named', () => {
    const env = { ...ISSUER, GATEHOUSE_CLIENT_ID: 'api', GATEHOUSE_CLIENT_SECRET: SECRET }
    const error = usageError(() =>
      readConfig({ 'introspection-url': 'http://idp.internal/introspect' }, env, true),
    )
    expect(error).toBeInstanceOf(InsecureUrlError)
    expect(error.message).toBe(
      '--introspection-url / GATEHOUSE_INTROSPECTION_URL: http://idp.internal/introspect is plain http to a host that ' +
        'is not loopback, which Gatehouse refuses: the client secret and the answers would cross the network in clear. ' +
        'Use https, or on a development network only set GATEHOUSE_ALLOW_INSECURE_REQUESTS=1 (or --allow-insecure-requests)',
    )
    const allowed = readConfig(
      { 'introspection-url': 'http://idp.internal/introspect', 'allow-insecure-requests': true },
      env,
      true,
    )
    expect(allowed.introspection?.url?.href).toBe('http://idp.internal/introspect')
  })

  it('without an issuer: nothing to introspect for', () => {
    const config = readConfig({ 'client-id': 'api' }, { GATEHOUSE_CLIENT_SECRET: SECRET }, true)
    expect(config).toEqual({ options: undefined, audienceMissing: false, introspection: undefined })
  })
})
