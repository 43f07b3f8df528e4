/** The key ring: one current key per algorithm, even under concurrent first use; pruning after grace. */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { KeyRing } from '../../src/dev-issuer/keys.js'

describe('KeyRing', () => {
  it('concurrent first uses create one key, not two', async () => {
    const ring = new KeyRing(null)
    const [a, b] = await Promise.all([ring.current('ES256'), ring.current('ES256')])
    expect(a.kid).toBe(b.kid)
    expect((await ring.jwks()).keys).toHaveLength(1)
  })

  it('a rotation prunes keys whose grace period is over, from the JWKS and from the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-keys-'))
    let now = Date.UTC(2030, 0, 1)
    const ring = new KeyRing(dir, () => now)
    try {
      const first = await ring.current('EdDSA')
      const second = await ring.rotate('EdDSA', 60)
      expect(second.retired).toBe(first.kid)
      now += 30_000
      expect((await ring.jwks()).keys.map((k) => k.kid)).toEqual([first.kid, second.kid])
      now += 31_000
      expect((await ring.jwks()).keys.map((k) => k.kid)).toEqual([second.kid])
      const third = await ring.rotate('EdDSA', 60)
      const stored = JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8')) as { keys: { kid: string }[] }
      expect(stored.keys.map((k) => k.kid)).toEqual([second.kid, third.kid])
      // A second ring on the same folder (another process) sees the same current key.
      expect((await new KeyRing(dir).current('EdDSA')).kid).toBe(third.kid)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
