/**
 * `gatehouse token`: prints only a token, signed with the dev issuer's persisted key, so it verifies
 * against a running issuer using the same folder.
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GatehouseError } from '../../src/core/errors.js'
import { createVerifier, type Verifier } from '../../src/core/verify/verifier.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { assertBuilt, runCli } from './run-cli.js'

let dir: string
let issuer: DevIssuer
let verifier: Verifier

beforeAll(async () => {
  assertBuilt()
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-token-'))
  issuer = await startDevIssuer({ dataDir: dir, audience: 'https://api.test' })
  verifier = createVerifier({ issuer: issuer.issuer, audience: 'https://api.test', jwksUri: issuer.jwksUri })
})
afterAll(async () => {
  verifier.close()
  await issuer.close()
  await rm(dir, { recursive: true, force: true })
})

describe('gatehouse token', () => {
  it('prints only a token that verifies against the running issuer, with the requested claims', async () => {
    const { code, stdout, stderr } = await runCli([
      'token',
      '--data-dir',
      dir,
      '--sub',
      'alice',
      '--scope',
      'read:messages write:messages',
      '--role',
      'admin',
      '--role',
      'auditor',
      '--permission',
      'read:users',
      '--claim',
      'tenant="acme"',
    ])
    expect(code).toBe(0)
    // Standard error says which keys and which issuer were used; stdout holds the token alone.
    expect(stderr).toBe(
      `gatehouse token: signed with the RS256 key in ${join(dir, 'keys.json')}, for issuer ${issuer.issuer} ` +
        `(the issuer last started with ${join(dir, 'issuer.json')})\n`,
    )
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/)
    // iss and aud come from the issuer that last ran with this folder (issuer.json).
    const { claims, header } = await verifier.verify(stdout.trim())
    expect(header.typ).toBe('at+jwt')
    expect(claims).toMatchObject({
      iss: issuer.issuer,
      aud: 'https://api.test',
      sub: 'alice',
      scope: 'read:messages write:messages',
      roles: ['admin', 'auditor'],
      permissions: ['read:users'],
      tenant: 'acme',
    })
    expect(claims.exp! - claims.iat!).toBe(3600)
  })

  it('--expires-in=-1h gives an expired token; --alg ES256 a token the issuer publishes a key for', async () => {
    const expired = await runCli(['token', '--data-dir', dir, '--expires-in=-1h'])
    const error = await verifier.verify(expired.stdout.trim()).catch((e: GatehouseError) => e)
    expect((error as GatehouseError).code).toBe('ERR_JWT_EXPIRED')

    const es = await runCli(['token', '--data-dir', dir, '--alg', 'ES256'])
    const fresh = createVerifier({
      issuer: issuer.issuer,
      audience: 'https://api.test',
      jwksUri: issuer.jwksUri,
    })
    try {
      expect((await fresh.verify(es.stdout.trim())).header.alg).toBe('ES256')
    } finally {
      fresh.close()
    }
  })

  it('creates keys in an empty folder, with the default issuer and audience', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'gatehouse-token-'))
    try {
      const { code, stdout } = await runCli(['token', '--data-dir', empty])
      expect(code).toBe(0)
      const claims = JSON.parse(Buffer.from(stdout.split('.')[1]!, 'base64url').toString())
      expect(claims).toMatchObject({
        iss: 'http://127.0.0.1:9000',
        aud: 'https://api.gatehouse.local',
        sub: 'dev-user',
      })
    } finally {
      await rm(empty, { recursive: true, force: true })
    }
  })

  it('run in a folder no issuer uses: says on stderr that it created a key, where, and for which issuer', async () => {
    const cwd = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-token-cwd-')))
    try {
      const keys = join(cwd, '.gatehouse/issuer/keys.json')
      const first = await runCli(['token'], { cwd })
      expect(first.code).toBe(0)
      expect(first.stderr.split('\n')).toEqual([
        `gatehouse token: created a new RS256 signing key in ${keys}. A dev issuer accepts this token only if ` +
          `it uses this folder: gatehouse issuer --data-dir ${join(cwd, '.gatehouse/issuer')}`,
        `gatehouse token: signed with the RS256 key in ${keys}, for issuer http://127.0.0.1:9000 ` +
          '(the default: no issuer has run with this folder)',
        '',
      ])
      expect(first.stderr).not.toContain(first.stdout.trim())

      // The second time the key exists: no "created"; a new algorithm's key is created again, and said.
      const second = await runCli(['token', '--issuer', 'https://issuer.example'], { cwd })
      expect(second.stderr).toBe(
        `gatehouse token: signed with the RS256 key in ${keys}, for issuer https://issuer.example (--issuer)\n`,
      )
      const es = await runCli(['token', '--alg', 'ES256'], { cwd })
      expect(es.stderr).toMatch(/^gatehouse token: created a new ES256 signing key in /)
    } finally {
      await rm(cwd, { recursive: true, force: true })
    }
  })

  it('refuses to set registered claims through --claim', async () => {
    const { code, stderr } = await runCli(['token', '--data-dir', dir, '--claim', 'iss=x'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/--claim cannot set "iss"/)
  })
})
