/**
 * The CLI's DPoP key (RFC 9449): one P-256 key pair, made on first use and kept in the dev issuer's data
 * folder (`dpop-key.json`, mode 0600), so that `gatehouse token --dpop` binds tokens to it and
 * `gatehouse proof` signs proofs with it, one process after another. And the proofs themselves (§4.2).
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto'
import { chmod, link, mkdir, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { sha256Sync } from '../core/crypto/digest.js'
import { jwkThumbprintSync } from '../core/dpop/thumbprint.js'
import type { JWK } from '../core/types.js'
import { readJsonFile } from '../dev-issuer/files.js'
import { UsageError } from './context.js'

export const DPOP_KEY_FILE = 'dpop-key.json'

/** The file's content. */
interface StoredDpopKey {
  version: 1
  alg: 'ES256'
  createdAt: string
  /** The private JWK. */
  privateJwk: JWK
}

export interface DpopKey {
  /** Where it is kept. */
  file: string
  /** True when this call made the key (and the file). */
  created: boolean
  alg: 'ES256'
  privateKey: KeyObject
  /** The public JWK, as a proof's `jwk` header carries it: `kty`, `crv`, `x`, `y` only. */
  publicJwk: JWK
  /** Its RFC 7638 thumbprint: the `cnf.jkt` of tokens bound to it. */
  jkt: string
}

/** The key in `dataDir`, made and saved first if there is none. */
export async function loadOrCreateDpopKey(dataDir: string): Promise<DpopKey> {
  const file = join(dataDir, DPOP_KEY_FILE)
  const existing = await readJsonFile(file)
  if (existing !== undefined) return fromStored(file, existing, false)
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const stored: StoredDpopKey = {
    version: 1,
    alg: 'ES256',
    createdAt: new Date().toISOString(),
    privateJwk: privateKey.export({ format: 'jwk' }) as JWK,
  }
  // Two commands run at once must not end up with two keys: the file is linked into place, which fails
  // when it exists, and then the one that got there first is used.
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(temp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 })
  await chmod(temp, 0o600) // the mode given to writeFile is filtered by the umask
  try {
    await link(temp, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return fromStored(file, await readJsonFile(file), false)
  } finally {
    await unlink(temp)
  }
  return fromStored(file, stored, true)
}

function fromStored(file: string, value: unknown, created: boolean): DpopKey {
  const stored = value as Partial<StoredDpopKey> | undefined
  const jwk = stored?.privateJwk
  let privateKey: KeyObject | undefined
  try {
    if (stored?.alg === 'ES256' && jwk?.kty === 'EC' && jwk.crv === 'P-256' && typeof jwk.d === 'string')
      privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' })
  } catch {}
  if (privateKey === undefined)
    throw new Error(`${file} does not hold an ES256 DPoP key; delete it to make a new one`)
  const { kty, crv, x, y } = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK
  const publicJwk: JWK = { kty, crv, x, y }
  return { file, created, alg: 'ES256', privateKey, publicJwk, jkt: jwkThumbprintSync(publicJwk)! }
}

/** What a proof is made for. */
export interface ProofRequest {
  /** The method, as the request will be sent. */
  method: string
  /** The URL the request will be sent to (`htu`; query and fragment are left out, §4.2). */
  url: string
  /** The access token sent with the request (`Authorization: DPoP`): its hash goes in `ath`. */
  accessToken?: string | undefined
  /** A nonce the server handed out in `DPoP-Nonce` (§8). */
  nonce?: string | undefined
}

/** A fresh proof for one request (RFC 9449 §4.2): `typ` `dpop+jwt`, the public key in `jwk`, a new `jti`. */
export function makeProof(key: DpopKey, request: ProofRequest, now = Date.now()): string {
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk }
  const claims: Record<string, unknown> = {
    jti: randomBytes(16).toString('base64url'),
    htm: request.method,
    htu: request.url,
    iat: Math.floor(now / 1000),
  }
  if (request.accessToken !== undefined) claims.ath = sha256Sync(request.accessToken)
  if (request.nonce !== undefined) claims.nonce = request.nonce
  const input = `${base64urlJson(header)}.${base64urlJson(claims)}`
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
  return `${input}.${signature.toString('base64url')}`
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** `--url` as a proof's `htu`: an absolute http(s) URL, without query and fragment. */
export function proofUrl(value: string | undefined, option = 'url'): string {
  if (value === undefined) throw new UsageError(`--${option} is required: the URL the request goes to`)
  const url = URL.canParse(value) ? new URL(value) : undefined
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new UsageError(`--${option} must be an absolute http(s) URL, got ${JSON.stringify(value)}`)
  url.search = ''
  url.hash = ''
  return url.href
}

/**
 * `--method` as a proof's `htm`: a method name (RFC 9110 §9.1), upper-cased, since the standard methods
 * are upper case and `htm` is compared exactly.
 */
export function proofMethod(value: string | undefined): string {
  const method = (value ?? 'GET').toUpperCase()
  if (!/^[!#$%&'*+.^_`|~0-9A-Z-]+$/.test(method))
    throw new UsageError(`--method must be an HTTP method such as GET or POST, got ${JSON.stringify(value)}`)
  return method
}

/**
 * The `cnf.jkt` of a JWT, read without verifying it: undefined when the JWT has none, null when the token
 * is not a JWT (an opaque token says nothing). For a warning that the server will refuse the proof.
 */
export function unverifiedJkt(token: string): string | undefined | null {
  const parts = token.split('.')
  if (parts.length !== 3) return null
  let claims: unknown
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'))
  } catch {
    return null
  }
  const jkt = (claims as { cnf?: { jkt?: unknown } } | null)?.cnf?.jkt
  return typeof jkt === 'string' ? jkt : undefined
}
