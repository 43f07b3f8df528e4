/**
 * optionsFromEnv: each GATEHOUSE_* variable, and each invalid value stopping start-up with a TypeError
 * that names the variable.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  ENV_VARIABLES,
  hasEnvConfig,
  optionsFromEnv,
  unknownEnvWarnings,
  warnUnknownEnv,
} from '../../../src/core/config/env.js'
import { createVerifier } from '../../../src/core/verify/verifier.js'

const BASE = {
  GATEHOUSE_ISSUER: 'https://tenant.example.com/',
  GATEHOUSE_AUDIENCE: 'https://api.example.com',
}
const env = (extra: Record<string, string | undefined>) => ({ ...BASE, ...extra })

afterEach(() => {
  vi.unstubAllEnvs()
})

/** What a start-up does: read the environment, then build the verifier. The first error is the answer. */
function startUp(variables: Record<string, string | undefined>): void {
  const verifier = createVerifier(optionsFromEnv(variables))
  verifier.close()
}

describe('optionsFromEnv: each variable', () => {
  it('GATEHOUSE_ISSUER is kept exactly (trailing slash included); several are separated by spaces', () => {
    expect(optionsFromEnv(BASE).issuer).toBe('https://tenant.example.com/')
    expect(
      optionsFromEnv(env({ GATEHOUSE_ISSUER: 'https://a.example.com https://b.example.com/' })).issuer,
    ).toEqual(['https://a.example.com', 'https://b.example.com/'])
  })

  it('GATEHOUSE_DOMAIN gives issuer https://{domain}', () => {
    const options = optionsFromEnv({ GATEHOUSE_DOMAIN: 'tenant.example.com', GATEHOUSE_AUDIENCE: 'api' })
    expect(options).toMatchObject({ domain: 'tenant.example.com' })
    expect(options.issuer).toBeUndefined()
    const verifier = createVerifier(options)
    expect(verifier.trusts[0]?.options.issuers).toEqual(['https://tenant.example.com'])
    verifier.close()
  })

  it('GATEHOUSE_AUDIENCE: one value is a string; several (spaces or commas) a list', () => {
    expect(optionsFromEnv(BASE).audience).toBe('https://api.example.com')
    expect(optionsFromEnv(env({ GATEHOUSE_AUDIENCE: 'a b,c , d' })).audience).toEqual(['a', 'b', 'c', 'd'])
  })

  it("discovery is 'auto' by default when no JWKS URL is given", () => {
    const options = optionsFromEnv(BASE)
    expect(options.discovery).toBe('auto')
    expect(options.jwksUri).toBeUndefined()
  })

  it('GATEHOUSE_JWKS_URL sets jwksUri and leaves discovery out', () => {
    const options = optionsFromEnv(env({ GATEHOUSE_JWKS_URL: 'https://tenant.example.com/keys' }))
    expect(options.jwksUri).toBe('https://tenant.example.com/keys')
    expect('discovery' in options).toBe(false)
    expect(optionsFromEnv(env({ GATEHOUSE_JWKS_URL: 'http://127.0.0.1:8080/jwks' })).jwksUri).toBe(
      'http://127.0.0.1:8080/jwks',
    )
  })

  it.each([
    ['true', true],
    ['TRUE', true],
    ['false', false],
    ['auto', 'auto'],
  ])('GATEHOUSE_DISCOVERY=%s', (value, expected) => {
    expect(optionsFromEnv(env({ GATEHOUSE_DISCOVERY: value })).discovery).toBe(expected)
  })

  it('GATEHOUSE_DISCOVERY=false with a JWKS URL is fine', () => {
    const options = optionsFromEnv(
      env({ GATEHOUSE_JWKS_URL: 'https://tenant.example.com/keys', GATEHOUSE_DISCOVERY: 'false' }),
    )
    expect(options.jwksUri).toBe('https://tenant.example.com/keys')
    expect(options.discovery).toBeUndefined()
  })

  it('GATEHOUSE_ALGORITHMS, comma- or space-separated', () => {
    expect(optionsFromEnv(env({ GATEHOUSE_ALGORITHMS: 'RS256, ES256 EdDSA' })).algorithms).toEqual([
      'RS256',
      'ES256',
      'EdDSA',
    ])
  })

  it('GATEHOUSE_CLOCK_TOLERANCE and GATEHOUSE_MAX_TOKEN_AGE, in seconds', () => {
    const options = optionsFromEnv(
      env({ GATEHOUSE_CLOCK_TOLERANCE: ' 10 ', GATEHOUSE_MAX_TOKEN_AGE: '3600.5' }),
    )
    expect(options.clockTolerance).toBe(10)
    expect(options.maxTokenAge).toBe(3600.5)
  })

  it('GATEHOUSE_TYP and GATEHOUSE_REQUIRED_CLAIMS', () => {
    const options = optionsFromEnv(
      env({ GATEHOUSE_TYP: 'at+jwt', GATEHOUSE_REQUIRED_CLAIMS: 'sub, client_id' }),
    )
    expect(options.typ).toBe('at+jwt')
    expect(options.requiredClaims).toEqual(['sub', 'client_id'])
  })

  it('GATEHOUSE_STRICT: 1 or true turns on RFC 9068 strict mode, 0 or false leaves it off', () => {
    for (const value of ['1', 'true', 'TRUE', ' 1 '])
      expect(optionsFromEnv(env({ GATEHOUSE_STRICT: value })).strict).toBe(true)
    for (const value of ['0', 'false', 'False'])
      expect(optionsFromEnv(env({ GATEHOUSE_STRICT: value })).strict).toBe(false)
    expect(optionsFromEnv(BASE).strict).toBeUndefined()
    const verifier = createVerifier(optionsFromEnv(env({ GATEHOUSE_STRICT: '1' })))
    expect(verifier.trusts[0]?.options.strict).toBe(true)
    expect([...(verifier.trusts[0]?.options.typ ?? [])]).toEqual(['at+jwt'])
    verifier.close()
  })

  it('empty or blank variables count as unset', () => {
    const options = optionsFromEnv(
      env({ GATEHOUSE_ALGORITHMS: '', GATEHOUSE_CLOCK_TOLERANCE: '   ', GATEHOUSE_JWKS_URL: '' }),
    )
    expect(options.algorithms).toBeUndefined()
    expect(options.clockTolerance).toBeUndefined()
    expect(options.discovery).toBe('auto')
  })

  it('reads process.env by default', () => {
    vi.stubEnv('GATEHOUSE_ISSUER', 'https://from-process.example.com')
    vi.stubEnv('GATEHOUSE_AUDIENCE', 'from-process')
    expect(optionsFromEnv()).toMatchObject({
      issuer: 'https://from-process.example.com',
      audience: 'from-process',
    })
    expect(hasEnvConfig()).toBe(true)
  })

  it('valid environments build a verifier', () => {
    startUp(BASE)
    startUp(
      env({
        GATEHOUSE_JWKS_URL: 'https://tenant.example.com/keys',
        GATEHOUSE_ALGORITHMS: 'RS256',
        GATEHOUSE_TYP: 'at+jwt',
      }),
    )
    startUp({ GATEHOUSE_DOMAIN: 'tenant.example.com:8443', GATEHOUSE_AUDIENCE: 'api' })
  })
})

describe('optionsFromEnv: an invalid value names its variable', () => {
  it.each<[string, Record<string, string | undefined>, string]>([
    ['no issuer and no domain', { GATEHOUSE_AUDIENCE: 'api' }, 'GATEHOUSE_ISSUER'],
    ['an issuer that is not a URL', env({ GATEHOUSE_ISSUER: 'tenant.example.com' }), 'GATEHOUSE_ISSUER'],
    ['issuer and domain both', env({ GATEHOUSE_DOMAIN: 'tenant.example.com' }), 'GATEHOUSE_DOMAIN'],
    [
      'a domain with a scheme',
      { GATEHOUSE_DOMAIN: 'https://tenant.example.com', GATEHOUSE_AUDIENCE: 'api' },
      'GATEHOUSE_DOMAIN',
    ],
    [
      'a domain with a path',
      { GATEHOUSE_DOMAIN: 'tenant.example.com/x', GATEHOUSE_AUDIENCE: 'api' },
      'GATEHOUSE_DOMAIN',
    ],
    [
      'a domain with a space',
      { GATEHOUSE_DOMAIN: 'tenant example.com', GATEHOUSE_AUDIENCE: 'api' },
      'GATEHOUSE_DOMAIN',
    ],
    ['no audience', { GATEHOUSE_ISSUER: 'https://tenant.example.com/' }, 'GATEHOUSE_AUDIENCE'],
    [
      'a JWKS URL that is not a URL',
      env({ GATEHOUSE_JWKS_URL: 'tenant.example.com/jwks' }),
      'GATEHOUSE_JWKS_URL',
    ],
    [
      'a JWKS URL over ftp',
      env({ GATEHOUSE_JWKS_URL: 'ftp://tenant.example.com/jwks' }),
      'GATEHOUSE_JWKS_URL',
    ],
    ['discovery "yes"', env({ GATEHOUSE_DISCOVERY: 'yes' }), 'GATEHOUSE_DISCOVERY'],
    [
      'discovery true with a JWKS URL',
      env({ GATEHOUSE_DISCOVERY: 'true', GATEHOUSE_JWKS_URL: 'https://tenant.example.com/keys' }),
      'GATEHOUSE_DISCOVERY',
    ],
    ['an HS256 algorithm', env({ GATEHOUSE_ALGORITHMS: 'RS256,HS256' }), 'GATEHOUSE_ALGORITHMS'],
    ['alg none', env({ GATEHOUSE_ALGORITHMS: 'none' }), 'GATEHOUSE_ALGORITHMS'],
    ['a lower-case algorithm', env({ GATEHOUSE_ALGORITHMS: 'rs256' }), 'GATEHOUSE_ALGORITHMS'],
    ['an empty algorithm list', env({ GATEHOUSE_ALGORITHMS: ',' }), 'GATEHOUSE_ALGORITHMS'],
    ['a negative tolerance', env({ GATEHOUSE_CLOCK_TOLERANCE: '-1' }), 'GATEHOUSE_CLOCK_TOLERANCE'],
    ['a tolerance with a unit', env({ GATEHOUSE_CLOCK_TOLERANCE: '5s' }), 'GATEHOUSE_CLOCK_TOLERANCE'],
    ['a non-numeric max age', env({ GATEHOUSE_MAX_TOKEN_AGE: 'one hour' }), 'GATEHOUSE_MAX_TOKEN_AGE'],
    ['strict "yes"', env({ GATEHOUSE_STRICT: 'yes' }), 'GATEHOUSE_STRICT'],
    ['strict with typ JWT', env({ GATEHOUSE_STRICT: '1', GATEHOUSE_TYP: 'JWT' }), 'GATEHOUSE_TYP'],
  ])('%s → TypeError naming %s', (_why, variables, variable) => {
    expect(() => optionsFromEnv(variables)).toThrow(TypeError)
    expect(() => optionsFromEnv(variables)).toThrow(new RegExp(`^${variable}:`))
  })

  it.each<[string, Record<string, string | undefined>, string]>([
    [
      'a JWKS URL over plain http to a public host',
      env({ GATEHOUSE_JWKS_URL: 'http://tenant.example.com/jwks' }),
      'GATEHOUSE_JWKS_URL',
    ],
    [
      'a domain that is not a host name (underscore)',
      { GATEHOUSE_DOMAIN: 'tenant_x.example.com', GATEHOUSE_AUDIENCE: 'api' },
      'GATEHOUSE_DOMAIN',
    ],
    [
      'a domain with an empty label',
      { GATEHOUSE_DOMAIN: 'tenant..example.com', GATEHOUSE_AUDIENCE: 'api' },
      'GATEHOUSE_DOMAIN',
    ],
  ])('%s stops start-up with a message naming the variable, not the option', (_why, variables, variable) => {
    expect(() => startUp(variables)).toThrow(new RegExp(`^${variable}:`))
  })

  it.each<[string, Record<string, string | undefined>, RegExp]>([
    [
      'issuer and domain both, the issuer invalid too: the conflict',
      { GATEHOUSE_ISSUER: 'not a url', GATEHOUSE_DOMAIN: 'tenant.example.com', GATEHOUSE_AUDIENCE: 'api' },
      /^GATEHOUSE_DOMAIN: expected to be unset/,
    ],
    [
      'no audience and a bad algorithm: the audience',
      { GATEHOUSE_ISSUER: BASE.GATEHOUSE_ISSUER, GATEHOUSE_ALGORITHMS: 'HS256' },
      /^GATEHOUSE_AUDIENCE:/,
    ],
    [
      'a bad JWKS URL and a bad discovery: the URL',
      env({ GATEHOUSE_JWKS_URL: 'ftp://x', GATEHOUSE_DISCOVERY: 'yes' }),
      /^GATEHOUSE_JWKS_URL:/,
    ],
    [
      'discovery beside a JWKS URL and a bad tolerance: discovery',
      env({
        GATEHOUSE_JWKS_URL: 'https://k.example.com',
        GATEHOUSE_DISCOVERY: 'auto',
        GATEHOUSE_CLOCK_TOLERANCE: '-1',
      }),
      /^GATEHOUSE_DISCOVERY: expected false or unset/,
    ],
    [
      'a bad algorithm and a bad tolerance: the algorithm',
      env({ GATEHOUSE_ALGORITHMS: 'HS256', GATEHOUSE_CLOCK_TOLERANCE: '-1' }),
      /^GATEHOUSE_ALGORITHMS:/,
    ],
  ])('several invalid, the first in the table is reported: %s', (_why, variables, message) => {
    expect(() => optionsFromEnv(variables)).toThrow(message)
  })

  it('shows at most 80 characters of a bad value', () => {
    try {
      optionsFromEnv(env({ GATEHOUSE_CLOCK_TOLERANCE: 'x'.repeat(500) }))
      expect.unreachable()
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(200)
    }
  })

  it('hasEnvConfig: true only with an issuer or a domain', () => {
    expect(hasEnvConfig({})).toBe(false)
    expect(hasEnvConfig({ GATEHOUSE_ISSUER: '  ' })).toBe(false)
    expect(hasEnvConfig({ GATEHOUSE_DOMAIN: 'x.example.com' })).toBe(true)
    expect(hasEnvConfig(BASE)).toBe(true)
  })
})

describe('unknown GATEHOUSE_* variables: one warning each, naming the nearest known one', () => {
  it.each([
    ['GATEHOUSE_ISUER', 'did you mean GATEHOUSE_ISSUER?'],
    ['GATEHOUSE_JWKS_URI', 'did you mean GATEHOUSE_JWKS_URL?'],
    ['GATEHOUSE_AUDIENCES', 'did you mean GATEHOUSE_AUDIENCE?'],
    ['GATEHOUSE_CLOCK_TOLERNACE', 'did you mean GATEHOUSE_CLOCK_TOLERANCE?'],
    ['GATEHOUSE_SCOPE_CLAIM', 'did you mean GATEHOUSE_SCOPES_CLAIM?'],
    ['gatehouse_issuer', 'did you mean GATEHOUSE_ISSUER? (names are case-sensitive)'],
    ['GATEHOUSE_XYZZY_FROBNICATE', 'the nearest known one is GATEHOUSE_'],
  ])('%s: %s', (name, hint) => {
    const warnings = unknownEnvWarnings({ ...BASE, [name]: 's3cr3t-value', PORT: '8000' })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.name).toBe(name)
    expect(warnings[0]!.message).toMatch(
      new RegExp(`^${name} is not a variable Gatehouse reads, so it is ignored; `),
    )
    expect(warnings[0]!.message).toContain(hint)
    // Names only: the value may be a secret.
    expect(warnings[0]!.message).not.toContain('s3cr3t')
  })

  it('known variables and variables of other programs give no warning', () => {
    const all = Object.fromEntries(ENV_VARIABLES.map((name) => [name, 'x']))
    expect(unknownEnvWarnings({ ...all, PORT: '1', DATABASE_URL: 'x', GATEHOUSEKEEPER: 'x' })).toEqual([])
  })

  it('warns once per process and variable, through the warn function given', () => {
    const warn = vi.fn()
    warnUnknownEnv({ GATEHOUSE_AUDIENSE_ONCE: 'x' }, warn)
    warnUnknownEnv({ GATEHOUSE_AUDIENSE_ONCE: 'x' }, warn)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0]![0]).toMatch(/^GATEHOUSE_AUDIENSE_ONCE is not a variable/)
    warnUnknownEnv({ GATEHOUSE_AUDIENSE_ONCE: 'x', GATEHOUSE_ISSUR: 'x' }, warn)
    expect(warn).toHaveBeenCalledTimes(2)
    expect(warn.mock.calls[1]![0]).toContain('did you mean GATEHOUSE_ISSUER?')
  })

  it('optionsFromEnv warns at start-up with process.emitWarning, once', () => {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    try {
      const variables = env({ GATEHOUSE_MAX_TOKEN_AGES: '60' })
      optionsFromEnv(variables)
      optionsFromEnv(variables)
      expect(emitted).toHaveBeenCalledTimes(1)
      expect(emitted).toHaveBeenCalledWith(
        'GATEHOUSE_MAX_TOKEN_AGES is not a variable Gatehouse reads, so it is ignored; did you mean GATEHOUSE_MAX_TOKEN_AGE?',
        'GatehouseWarning',
      )
    } finally {
      emitted.mockRestore()
    }
  })

  it('GATEHOUSE_RESOURCE and the metadata variables: the gate’s resource options; the audience may be left out', () => {
    const options = optionsFromEnv({
      GATEHOUSE_ISSUER: 'https://tenant.example.com/',
      GATEHOUSE_RESOURCE: 'https://api.example.com/mcp',
      GATEHOUSE_AUTHORIZATION_SERVERS: 'https://tenant.example.com/ https://other.example.com',
      GATEHOUSE_SCOPES_SUPPORTED: 'notes:read notes:write',
      GATEHOUSE_RESOURCE_NAME: 'Notes',
    })
    expect(options).toMatchObject({
      resource: 'https://api.example.com/mcp',
      resourceMetadata: {
        authorizationServers: ['https://tenant.example.com/', 'https://other.example.com'],
        scopesSupported: ['notes:read', 'notes:write'],
        resourceName: 'Notes',
      },
    })
    expect(options.audience).toBeUndefined()
    expect(() => optionsFromEnv({ GATEHOUSE_ISSUER: 'https://tenant.example.com/' })).toThrow(
      /^GATEHOUSE_AUDIENCE:/,
    )
    expect(() => optionsFromEnv({ ...BASE, GATEHOUSE_RESOURCE: 'http://api.example.com' })).toThrow(
      /^GATEHOUSE_RESOURCE: expected an https URL/,
    )
    expect(() => optionsFromEnv({ ...BASE, GATEHOUSE_SCOPES_SUPPORTED: 'a' })).toThrow(/^GATEHOUSE_RESOURCE:/)
  })

  it('introspection variables: credentials, URL rules, cache age, and a token source that contradicts them', () => {
    const introspecting = { ...BASE, GATEHOUSE_CLIENT_ID: 'api', GATEHOUSE_CLIENT_SECRET: 's3cret' }
    expect(
      optionsFromEnv({
        ...introspecting,
        GATEHOUSE_INTROSPECTION_CACHE_MAX_AGE: '5',
        GATEHOUSE_REDIS_URL: 'redis://r:6379',
      }).introspection,
    ).toEqual({ clientId: 'api', clientSecret: 's3cret', cache: { maxAge: 5, store: 'redis://r:6379' } })
    expect(() =>
      optionsFromEnv({ ...introspecting, GATEHOUSE_INTROSPECTION_URL: 'http://id.example.com/introspect' }),
    ).toThrow(/^GATEHOUSE_INTROSPECTION_URL: expected an https URL/)
    expect(() => optionsFromEnv({ ...BASE, GATEHOUSE_TOKEN_SOURCE: 'introspection' })).toThrow(
      /^GATEHOUSE_CLIENT_ID:/,
    )
    expect(() => optionsFromEnv({ ...introspecting, GATEHOUSE_TOKEN_SOURCE: 'jwt' })).toThrow(
      /^GATEHOUSE_TOKEN_SOURCE:/,
    )
    expect(() => optionsFromEnv({ ...BASE, GATEHOUSE_CLIENT_ID: 'api' })).toThrow(/^GATEHOUSE_CLIENT_SECRET:/)
  })

  it('a Redis URL is refused without printing its password', () => {
    expect(() =>
      optionsFromEnv({
        ...BASE,
        GATEHOUSE_DPOP: 'allowed',
        GATEHOUSE_REDIS_URL: 'http://:S3cret@redis.internal:6379',
      }),
    ).toThrow(
      /^GATEHOUSE_REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/…@redis\.internal:6379"$/,
    )
  })

  it('DPoP store or nonce settings with DPoP off are reported, not silently ignored', () => {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    try {
      optionsFromEnv({ ...BASE, GATEHOUSE_REDIS_URL: 'redis://127.0.0.1:6379' })
      expect(String(emitted.mock.calls[0]?.[0])).toMatch(
        /takes? effect only with GATEHOUSE_DPOP=allowed or required/,
      )
      emitted.mockClear()
      optionsFromEnv({ ...BASE, GATEHOUSE_DPOP: 'required', GATEHOUSE_REDIS_URL: 'redis://127.0.0.1:6379' })
      expect(emitted).not.toHaveBeenCalled()
    } finally {
      emitted.mockRestore()
    }
  })

  it('ENV_VARIABLES lists every GATEHOUSE_* variable read in the repository, and only those', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url))
    const read = new Set<string>()
    const patterns = [
      /\benv(?:\.|\[\s*['"`])(GATEHOUSE_[A-Z0-9_]+)/g, // process.env.X, ctx.env.X, env['X']
      /\benvOption\(\s*['"](GATEHOUSE_[A-Z0-9_]+)['"]/g, // optionsFromEnv's table
      /\[\s*['"](GATEHOUSE_[A-Z0-9_]+)['"],\s*['"]\w+['"]\]/g, // its claim-mapping variables
      /\$\{?(GATEHOUSE_[A-Z0-9_]+)/g, // shell: $X, ${X:-default}
      /\bexport\s+(GATEHOUSE_[A-Z0-9_]+)=/g, // shell
    ]
    const scan = (path: string) => {
      for (const entry of readdirSync(path)) {
        if (entry === 'node_modules' || entry === 'dist') continue
        const file = join(path, entry)
        if (statSync(file).isDirectory()) scan(file)
        else if (/\.(ts|js|mjs|cjs|sh)$|^run$/.test(entry)) {
          const text = readFileSync(file, 'utf8')
          for (const pattern of patterns) for (const match of text.matchAll(pattern)) read.add(match[1]!)
        }
      }
    }
    for (const folder of ['src', 'apps', 'test', '.ci', 'scripts', 'examples', 'bench'])
      scan(join(root, folder))
    // The documented ones: the rows of the variables table in docs/configuration.md.
    const docs = readFileSync(join(root, 'docs/configuration.md'), 'utf8')
    for (const row of docs.split('\n').filter((line) => line.startsWith('| `GATEHOUSE_'))) {
      for (const match of row.split(' | ')[0]!.matchAll(/`(GATEHOUSE_[A-Z0-9_]+)`/g)) read.add(match[1]!)
    }
    const missing = [...read].filter((name) => !ENV_VARIABLES.includes(name))
    expect(missing, 'read or documented, but not in ENV_VARIABLES (src/core/config/env.ts)').toEqual([])
    const stale = ENV_VARIABLES.filter((name) => !read.has(name))
    expect(stale, 'in ENV_VARIABLES but read nowhere').toEqual([])
  })
})
