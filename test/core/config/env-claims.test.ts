/** GATEHOUSE_*_CLAIM variables: where roles, permissions, groups and scopes are read from. */
import { describe, expect, it } from 'vitest'
import { createClaimsReader } from '../../../src/core/authz/claims-reader.js'
import { optionsFromEnv } from '../../../src/core/config/env.js'

const base = { GATEHOUSE_ISSUER: 'https://issuer.example/', GATEHOUSE_AUDIENCE: 'api' }

describe('optionsFromEnv: claim mapping', () => {
  it('reads a namespaced name and a JSON Pointer, in priority order', () => {
    const options = optionsFromEnv({
      ...base,
      GATEHOUSE_ROLES_CLAIM: 'https://example.com/roles /realm_access/roles',
      GATEHOUSE_PERMISSIONS_CLAIM: 'perms',
    })
    expect(options.claims).toEqual({
      roles: ['https://example.com/roles', '/realm_access/roles'],
      permissions: ['perms'],
    })
    const read = createClaimsReader(options.claims)
    expect([...read({ realm_access: { roles: ['admin'] } }).roles]).toEqual(['admin'])
    expect([
      ...read({ 'https://example.com/roles': ['editor'], realm_access: { roles: ['admin'] } }).roles,
    ]).toEqual(['editor'])
    expect([...read({ perms: ['read:users'] }).permissions]).toEqual(['read:users'])
  })

  it('leaves the defaults alone when no variable is set', () => {
    expect(optionsFromEnv(base).claims).toBeUndefined()
  })

  it('names the variable when a path is malformed', () => {
    expect(() => optionsFromEnv({ ...base, GATEHOUSE_GROUPS_CLAIM: '/a//b' })).toThrow(
      /^GATEHOUSE_GROUPS_CLAIM:/,
    )
  })
})
