/**
 * The data folder: keys and clients are generated once, kept private (0600), and survive restarts, so a
 * token minted before a restart still verifies after it.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createVerifier } from '../../src/core/verify/verifier.js'
import { startDevIssuer } from '../../src/dev-issuer/index.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-issuer-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

describe('data folder', () => {
  it('generates clients.json and keys.json, readable by the owner only', async () => {
    const issuer = await startDevIssuer({ dataDir: dir })
    await issuer.close()
    for (const file of ['clients.json', 'keys.json']) {
      const mode = (await stat(join(dir, file))).mode & 0o777
      expect(mode.toString(8)).toBe('600')
    }
    const { clients } = JSON.parse(await readFile(join(dir, 'clients.json'), 'utf8'))
    expect(clients.map((c: { clientId: string }) => c.clientId)).toEqual(['demo-client', 'reader-client'])
    expect(issuer.clientsFile).toBe(join(dir, 'clients.json'))
    // Generated secrets are long and random, not a constant shared by every install.
    expect(clients[0].clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const other = await mkdtemp(join(tmpdir(), 'gatehouse-issuer-'))
    try {
      const second = await startDevIssuer({ dataDir: other })
      await second.close()
      expect(second.clients[0]!.clientSecret).not.toBe(clients[0].clientSecret)
    } finally {
      await rm(other, { recursive: true, force: true })
    }
  })

  it('a token minted before a restart verifies against the JWKS served after it', async () => {
    const first = await startDevIssuer({ dataDir: dir })
    const token = await first.mint({ scope: 'read:messages' })
    const secret = first.clients[0]!.clientSecret
    await first.close()

    const second = await startDevIssuer({ dataDir: dir })
    try {
      expect(second.clients[0]!.clientSecret).toBe(secret)
      // Port 0 gives a new port, hence a new default issuer: trust the first one's, read the second's keys.
      const verifier = createVerifier({
        issuer: first.issuer,
        audience: first.audience,
        jwksUri: second.jwksUri,
      })
      try {
        const { claims } = await verifier.verify(token)
        expect(claims.scope).toBe('read:messages')
      } finally {
        verifier.close()
      }
    } finally {
      await second.close()
    }
  })

  it('honours a hand-edited clients file', async () => {
    await writeFile(
      join(dir, 'clients.json'),
      JSON.stringify({
        clients: [{ clientId: 'mine', clientSecret: 's3cret', scopes: ['a:b'], roles: ['r'] }],
      }),
    )
    const issuer = await startDevIssuer({ dataDir: dir })
    try {
      const response = await fetch(`${issuer.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=mine&client_secret=s3cret',
      })
      expect(((await response.json()) as { scope: string }).scope).toBe('a:b')
    } finally {
      await issuer.close()
    }
  })

  it('refuses to start on a malformed clients or keys file, naming the file', async () => {
    await writeFile(join(dir, 'clients.json'), JSON.stringify({ clients: [{ clientId: 'x' }] }))
    await expect(startDevIssuer({ dataDir: dir })).rejects.toThrow(
      /clients\.json: clients\[0\] needs a clientSecret, a jwks/,
    )
    await rm(join(dir, 'clients.json'))
    await writeFile(join(dir, 'keys.json'), '{ not json')
    await expect(startDevIssuer({ dataDir: dir })).rejects.toThrow(/keys\.json is not valid JSON/)
  })
})
