/**
 * The unique-token pool: thousands of distinct RS256 access tokens, signed with node:crypto on the
 * thread pool (about twice as fast as jose's SignJWT here, which matters at 20k tokens). Same header and
 * claims as bench/lib/tokens.js (`typ: at+jwt`, RFC 9068 shape), so the two benchmarks verify alike.
 */
import { KeyObject, randomUUID, sign } from 'node:crypto'
import { promisify } from 'node:util'
import { AUDIENCE, ISSUER } from '../lib/tokens.js'

const signAsync = promisify(sign)
const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Signatures in flight at once: enough to keep the thread pool busy on both cores. */
const BATCH = 256

/**
 * `count` distinct valid RS256 tokens for `key` (an entry of createKeys(): its `privateKey` is a
 * CryptoKey), valid for an hour from now. `sub` is `bench|user-<n>`; `onProgress(done)` after each batch.
 */
export async function mintUniquePool(key, count, onProgress) {
  const privateKey = KeyObject.from(key.privateKey)
  const header = part({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' })
  const now = Math.floor(Date.now() / 1000)
  const mintOne = async (index) => {
    const claims = {
      iss: ISSUER,
      sub: `bench|user-${String(index).padStart(6, '0')}`,
      aud: AUDIENCE,
      iat: now,
      exp: now + 3600,
      jti: randomUUID(),
      scope: 'openid profile read:orders write:orders',
      client_id: 'bench-client-4f2a9c',
    }
    const input = `${header}.${part(claims)}`
    const signature = await signAsync('sha256', Buffer.from(input), privateKey)
    return `${input}.${signature.toString('base64url')}`
  }
  const pool = []
  for (let start = 0; start < count; start += BATCH) {
    const batch = []
    for (let i = start; i < Math.min(count, start + BATCH); i++) batch.push(mintOne(i))
    pool.push(...(await Promise.all(batch)))
    onProgress?.(pool.length)
  }
  return pool
}

/** The `sub` claim of a token we minted, to check that a server answered for the right caller. */
export function subOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).sub
}
