/**
 * Key rotation: the new key signs at once, the old one stays published for the grace period (so tokens
 * it signed keep verifying), then leaves the JWKS. Rotation from another process (the CLI writing
 * keys.json) reaches a running issuer.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import { GatehouseError } from '../../src/core/errors.js'
import { createVerifier } from '../../src/core/verify/verifier.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { KeyRing } from '../../src/dev-issuer/keys.js'

async function kids(issuer: DevIssuer): Promise<string[]> {
  const response = await fetch(issuer.jwksUri)
  return ((await response.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid)
}

/** A fresh verifier each time: no key cache carried over between checks. */
async function verifyFresh(issuer: DevIssuer, token: string) {
  const verifier = createVerifier({
    issuer: issuer.issuer,
    audience: issuer.audience,
    jwksUri: issuer.jwksUri,
  })
  try {
    return await verifier.verify(token)
  } finally {
    verifier.close()
  }
}

describe('rotation', () => {
  it('keeps the old key for the grace period, then drops it', async () => {
    const issuer = await startDevIssuer({ rotationGrace: 1 })
    try {
      const before = await issuer.mint()
      const oldKid = decodeProtectedHeader(before).kid!
      const { kid: newKid } = await issuer.rotate()
      expect(newKid).not.toBe(oldKid)
      expect(await kids(issuer)).toEqual([oldKid, newKid])

      const after = await issuer.mint()
      expect(decodeProtectedHeader(after).kid).toBe(newKid)
      await verifyFresh(issuer, before) // still published: still valid
      await verifyFresh(issuer, after)

      await new Promise((resolve) => setTimeout(resolve, 1100))
      expect(await kids(issuer)).toEqual([newKid])
      const error = await verifyFresh(issuer, before).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(GatehouseError)
      expect((error as GatehouseError).code).toBe('ERR_JWKS_NO_MATCHING_KEY')
      await verifyFresh(issuer, after)
    } finally {
      await issuer.close()
    }
  })

  it('POST /admin/rotate from loopback rotates and answers the new kid', async () => {
    const issuer = await startDevIssuer()
    try {
      const [oldKid] = await kids(issuer)
      const response = await fetch(`${issuer.url}/admin/rotate`, { method: 'POST' })
      expect(response.status).toBe(200)
      const { kid } = (await response.json()) as { kid: string }
      expect(kid).not.toBe(oldKid)
      expect(await kids(issuer)).toEqual([oldKid, kid])
      expect((await fetch(`${issuer.url}/admin/rotate`)).status).toBe(405)
    } finally {
      await issuer.close()
    }
  })

  it('POST /admin/rotate from a browser page (Origin header) is refused: no CSRF rotation', async () => {
    const issuer = await startDevIssuer()
    try {
      const before = await kids(issuer)
      const response = await fetch(`${issuer.url}/admin/rotate`, {
        method: 'POST',
        headers: { origin: 'http://evil.example' },
      })
      expect(response.status).toBe(403)
      expect(await kids(issuer)).toEqual(before)
    } finally {
      await issuer.close()
    }
  })

  it('a rotation written to keys.json by another process reaches the running issuer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-rotate-'))
    const issuer = await startDevIssuer({ dataDir: dir })
    try {
      const [oldKid] = await kids(issuer)
      const { kid, retired } = await new KeyRing(dir).rotate('RS256', 60)
      expect(retired).toBe(oldKid)
      expect(await kids(issuer)).toEqual([oldKid, kid])
      const client = issuer.clients[0]!
      const response = await fetch(`${issuer.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: client.clientId,
          client_secret: client.clientSecret!,
        }),
      })
      const { access_token } = (await response.json()) as { access_token: string }
      expect(decodeProtectedHeader(access_token).kid).toBe(kid)
    } finally {
      await issuer.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
