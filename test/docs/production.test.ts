/**
 * The README's "Going to production" blocks: the GATEHOUSE_* variables given for each provider, read by
 * `optionsFromEnv`, must produce what the provider's preset produces (issuer, key set, audience,
 * algorithms, claim mapping), and both must accept the provider's access token with the same claim sets.
 * And the README's "Testing your protected routes" block must be the tested file, whole.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseClaimPath } from '../../src/core/authz/claim-path.js'
import { type ClaimMapping, DEFAULT_CLAIM_MAPPING } from '../../src/core/authz/claims-reader.js'
import { optionsFromEnv } from '../../src/core/config/env.js'
import type { IssuerOptions } from '../../src/core/config/options.js'
import { auth0, authaction, cognito, entra, keycloak, okta } from '../../src/core/presets/index.js'
import type { JWK } from '../../src/core/types.js'
import { presets } from '../../src/index.js'
import { type Fixture, fixture, verify } from '../core/presets/helpers.js'
import { rejection } from '../helpers/tokens.js'

const root = new URL('../../', import.meta.url)
const readme = readFileSync(new URL('README.md', root), 'utf8')
const section = /\n## Going to production\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? ''

/** The code block after `**{provider}**` in the section: its language and its text. */
function block(provider: string): { language: string; text: string } {
  const found = new RegExp(`\\*\\*${provider}\\*\\*[\\s\\S]*?\`\`\`(\\w+)\\n([\\s\\S]*?)\`\`\``).exec(section)
  if (found === null) throw new Error(`no code block for ${provider} in "Going to production"`)
  return { language: found[1] as string, text: found[2] as string }
}

/** `NAME=value  # comment` lines, as a shell would read them (double quotes group words). */
function environment(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const assignment = /^(GATEHOUSE_\w+)=("([^"]*)"|(\S*))/.exec(line)
    if (assignment === null) {
      expect(line.trim(), `not an assignment: ${line}`).toBe('')
      continue
    }
    env[assignment[1] as string] = assignment[3] ?? (assignment[4] as string)
  }
  return env
}

const list = (value: unknown) => (value === null || value === undefined ? value : [value].flat())
const mapping = (claims: ClaimMapping | undefined) =>
  Object.fromEntries(
    (['scopes', 'roles', 'permissions', 'groups'] as const).map((category) => [
      category,
      (claims?.[category] ?? DEFAULT_CLAIM_MAPPING[category]).map((path) => parseClaimPath(path)),
    ]),
  )
const withoutAlg = { jwk: (jwk: JWK) => ({ ...jwk, alg: undefined }) as JWK }

interface Provider {
  name: string
  preset: IssuerOptions
  token: Fixture
  changes?: Record<string, unknown>
  extra?: typeof withoutAlg
  /** The claim sets both configurations must read from the token. */
  reads: Record<'scopes' | 'roles' | 'permissions' | 'groups', string[]>
}

const providers: Provider[] = [
  {
    name: 'Auth0',
    preset: auth0({
      domain: 'tenant.us.auth0.com',
      audience: 'https://api.example.com',
      claims: { roles: ['https://example.com/roles'] },
    }),
    token: fixture('auth0'),
    reads: {
      scopes: ['openid', 'profile', 'read:messages'],
      roles: ['admin', 'editor'],
      permissions: ['read:messages', 'delete:messages'],
      groups: [],
    },
  },
  {
    name: 'AuthAction',
    preset: authaction({ domain: 'acme.eu.authaction.com', audience: 'https://api.example.com' }),
    token: fixture('authaction'),
    reads: { scopes: ['read:messages', 'write:messages'], roles: [], permissions: [], groups: [] },
  },
  {
    name: 'Keycloak',
    preset: keycloak({
      url: 'https://kc.example.com',
      realm: 'shop',
      clientId: 'orders-api',
      audience: 'orders-api',
    }),
    token: fixture('keycloak'),
    // A token a front end requested for the API, whose Audience mapper put the API in aud.
    changes: {
      aud: ['orders-api', 'account'],
      azp: 'shop-frontend',
      resource_access: { 'orders-api': { roles: ['orders:read'] }, account: { roles: ['view-profile'] } },
    },
    reads: {
      scopes: ['openid', 'profile', 'email'],
      roles: ['default-roles-shop', 'offline_access', 'uma_authorization', 'admin'],
      permissions: ['orders:read'],
      groups: ['/staff', '/staff/Sales Team'],
    },
  },
  {
    name: 'Microsoft Entra ID',
    preset: entra({
      tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      audience: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
    }),
    token: fixture('entra-v2'),
    extra: withoutAlg,
    reads: {
      scopes: ['access_as_user', 'Orders.Read'],
      roles: ['Orders.Admin'],
      permissions: [],
      groups: [],
    },
  },
  {
    name: 'Okta',
    preset: okta({ domain: 'dev-123456.okta.com', audience: 'api://default' }),
    token: fixture('okta'),
    reads: {
      scopes: ['openid', 'email', 'flights', 'custom'],
      roles: [],
      permissions: [],
      groups: ['Everyone', 'Travel Agents'],
    },
  },
]

describe('README: going to production', () => {
  it.each(providers)('$name: the variables give what the preset gives', (provider) => {
    const { language, text } = block(provider.name)
    expect(language).toBe('sh')
    const options = optionsFromEnv(environment(text))
    const { preset } = provider
    expect(list(options.issuer)).toEqual(list(preset.issuer))
    expect(options.jwksUri).toBe(preset.jwksUri)
    expect(options.discovery).toBeUndefined()
    expect(list(options.audience)).toEqual(list(preset.audience))
    expect(options.algorithms).toEqual(preset.algorithms)
    expect(mapping(options.claims)).toEqual(mapping(preset.claims))
  })

  it.each(providers)(
    "$name: both accept the provider's token and read the same claim sets",
    async (provider) => {
      const options = optionsFromEnv(environment(block(provider.name).text))
      for (const configuration of [options, provider.preset]) {
        const result = await verify(configuration, provider.token, provider.changes, provider.extra)
        expect({
          scopes: [...result.scopes],
          roles: [...result.roles],
          permissions: [...result.permissions],
          groups: [...result.groups],
        }).toEqual(provider.reads)
        expect(result.keyRequests).toEqual([new URL(String(provider.preset.jwksUri)).pathname])
      }
    },
  )

  it('Amazon Cognito: no audience variable can match its access tokens, so the README shows the preset', async () => {
    const { language, text } = block('Amazon Cognito')
    expect(language).toBe('ts')
    // The block, run with createGate swapped for a function that returns what the preset produced.
    const body = text.replace(/^import .*\n/m, '')
    const produced = new Function('createGate', 'presets', `${body}\nreturn gate`)((o: unknown) => o, presets)
    const { validate: _validate, ...shown } = produced
    const { validate: _expected, ...expected } = cognito({
      region: 'eu-west-1',
      userPoolId: 'eu-west-1_AbCdEf123',
      clientId: '1example23456789',
    })
    expect(shown).toEqual(expected)
    expect(produced.audience).toBeNull()
    const pool = { iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123' }
    const result = await verify(produced, fixture('cognito'), pool)
    expect([...result.groups]).toEqual(['admin', 'Sales Team'])
    expect(
      await rejection(verify(produced, fixture('cognito'), { ...pool, client_id: 'another' })),
    ).toMatchObject({
      code: 'ERR_JWT_CLAIM_INVALID',
    })
    expect(() => optionsFromEnv({ GATEHOUSE_ISSUER: pool.iss })).toThrow(/^GATEHOUSE_AUDIENCE: /)
  })

  it('gives a block for each provider the README names', () => {
    const named = [...section.matchAll(/^\*\*([^*]+)\*\*/gm)].map((m) => m[1])
    expect(named).toEqual(['Auth0', 'AuthAction', 'Amazon Cognito', 'Keycloak', 'Microsoft Entra ID', 'Okta'])
  })
})

describe('README: testing your protected routes', () => {
  it('shows examples/testing/app.test.ts whole', () => {
    const shown = /<!-- readme-snippet: examples\/testing\/app\.test\.ts -->\n```ts\n([\s\S]*?)```/.exec(
      readme,
    )?.[1]
    expect(shown).toBe(readFileSync(new URL('examples/testing/app.test.ts', root), 'utf8'))
  })
})
