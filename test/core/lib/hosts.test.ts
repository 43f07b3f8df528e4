/** Host names as configuration gives them: the DNS label rules (RFC 1123 §2.1, RFC 1035 §2.3.4) and a port. */
import { describe, expect, it } from 'vitest'
import { isHostName } from '../../../src/core/lib/hosts.js'

const label63 = 'a'.repeat(63)
/** Four 61-character labels and a last one: 248 characters, plus the last label. */
const long = (last: string) => `${['a', 'b', 'c', 'd'].map((c) => c.repeat(61)).join('.')}.${last}`

describe('isHostName', () => {
  it('counts the long names right', () => {
    expect([long('abcde').length, long('abcdef').length]).toEqual([253, 254])
  })

  it.each([
    'localhost',
    'tenant.us.auth0.com',
    'TENANT.Example.COM',
    'keycloak:8080',
    'tenant.example.com:8443',
    '127.0.0.1',
    'x-1.example',
    '1password.com',
    `${label63}.example.com`,
    long('abcde'), // 253 characters
  ])('accepts %s', (value) => {
    expect(isHostName(value)).toBe(true)
  })

  it.each([
    '',
    'https://tenant.example.com',
    'tenant.example.com/path',
    'tenant.example.com.',
    'tenant..example.com',
    'tenant_x.example.com',
    '-tenant.example.com',
    'tenant-.example.com',
    `${label63}a.example.com`,
    long('abcdef'), // 254 characters
    '[::1]',
    'tenant.example.com:',
    'tenant.example.com:123456',
    'tenant example.com',
    undefined,
    42,
  ])('refuses %j', (value) => {
    expect(isHostName(value)).toBe(false)
  })
})
