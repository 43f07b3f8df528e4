/**
 * The OAuth clients of the dev issuer: who may ask for tokens, with which secret or key, and what they may get.
 * Kept in `{dataDir}/clients.json`, generated on first start with two clients (see docs/dev-issuer.md).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { join } from 'node:path'
import { readJsonFile, writeJsonFile } from './files.js'
import { TOKEN_FORMATS, type TokenFormat } from './tokens.js'

/** A client allowed to use the client-credentials grant (RFC 6749 §4.4). */
export interface DevClient {
  /** The `client_id`. Tokens get `sub: "{clientId}@clients"` and `client_id: clientId`. */
  clientId: string
  /**
   * The `client_secret` (`client_secret_basic`, `client_secret_post`), compared in constant time. Absent:
   * the client authenticates with `private_key_jwt` only, and `jwks` is required.
   */
  clientSecret?: string
  /**
   * The client's public keys (a JWK Set, RFC 7517 §5), for `private_key_jwt` (RFC 7523 §2.2): an assertion
   * signed by one of them authenticates the client. Public members only; RSA, EC or OKP keys.
   */
  jwks?: { keys: Record<string, unknown>[] }
  /** Scopes the client may request. A request without `scope` gets all of them (RFC 6749 §3.3). */
  scopes: string[]
  /** Copied into the token's `roles` claim. Omitted from the token when empty. */
  roles?: string[]
  /** Copied into the token's `permissions` claim. Omitted from the token when empty. */
  permissions?: string[]
  /**
   * Audiences this client may request, with `audience` or with an RFC 8707 `resource`. Absent: any
   * audience (convenient while developing; a real provider would require a grant per API). Present: any
   * other is refused with `invalid_target`.
   */
  audiences?: string[]
  /** Extra claims added to every token of this client (they never override the registered claims). */
  claims?: Record<string, unknown>
  /** `'jwt'` or `'opaque'`: the format of this client's tokens. Absent: the issuer's `tokenFormat`. */
  tokenFormat?: TokenFormat
  /** Free text for humans reading the file. */
  description?: string
}

export const CLIENTS_FILE = 'clients.json'

/**
 * The generated clients: one that may do everything the reference API offers, one that may only read, so
 * the demo can show a 403 next to a 200.
 */
export function defaultClients(): DevClient[] {
  return [
    {
      clientId: 'demo-client',
      clientSecret: newSecret(),
      description: 'Reads and writes messages, admin role: everything the reference API offers.',
      scopes: ['read:messages', 'write:messages'],
      roles: ['admin'],
      permissions: ['read:messages', 'write:messages', 'read:users'],
    },
    {
      clientId: 'reader-client',
      clientSecret: newSecret(),
      description: 'Reads messages only, no role: gets 403 on writes and on the admin routes.',
      scopes: ['read:messages'],
      roles: [],
      permissions: ['read:messages'],
    },
  ]
}

/** 256 random bits, base64url: long enough that guessing is pointless even for a dev tool. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * The clients in `{dataDir}/clients.json`, writing the defaults there first if the file does not exist.
 * Throws an Error naming the file and the member when the file is malformed.
 */
export async function loadClientsFile(
  dataDir: string,
): Promise<{ clients: DevClient[]; path: string; created: boolean }> {
  const path = join(dataDir, CLIENTS_FILE)
  const document = await readJsonFile(path)
  if (document === undefined) {
    const clients = defaultClients()
    await writeJsonFile(path, { clients })
    return { clients, path, created: true }
  }
  const list = (document as { clients?: unknown } | null)?.clients
  if (!Array.isArray(list)) throw new Error(`${path}: expected { "clients": [ ... ] }`)
  return { clients: validateClients(list, path), path, created: false }
}

/** Check the shape of each client; throws an Error naming `source` and the offending member. */
export function validateClients(list: readonly unknown[], source = 'clients'): DevClient[] {
  const seen = new Set<string>()
  return list.map((raw, i) => {
    const where = `${source}: clients[${i}]`
    if (typeof raw !== 'object' || raw === null) throw new Error(`${where} must be an object`)
    const c = raw as Record<string, unknown>
    if (typeof c.clientId !== 'string' || c.clientId === '')
      throw new Error(`${where}.clientId must be a non-empty string`)
    if (seen.has(c.clientId)) throw new Error(`${where}.clientId ${JSON.stringify(c.clientId)} appears twice`)
    seen.add(c.clientId)
    if (c.clientSecret !== undefined && (typeof c.clientSecret !== 'string' || c.clientSecret === '')) {
      throw new Error(`${where}.clientSecret must be a non-empty string`)
    }
    if (c.jwks !== undefined) validateJwks(c.jwks, `${where}.jwks`)
    if (c.clientSecret === undefined && c.jwks === undefined) {
      throw new Error(`${where} needs a clientSecret, a jwks (for private_key_jwt), or both`)
    }
    for (const member of ['scopes', 'roles', 'permissions', 'audiences'] as const) {
      const value = c[member]
      if (value === undefined && member !== 'scopes') continue
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
        throw new Error(`${where}.${member} must be an array of non-empty strings`)
      }
    }
    for (const scope of c.scopes as string[]) {
      if (!SCOPE_TOKEN.test(scope))
        throw new Error(`${where}.scopes: ${JSON.stringify(scope)} is not a valid scope`)
    }
    if (
      c.claims !== undefined &&
      (typeof c.claims !== 'object' || c.claims === null || Array.isArray(c.claims))
    ) {
      throw new Error(`${where}.claims must be an object`)
    }
    if (c.tokenFormat !== undefined && !TOKEN_FORMATS.includes(c.tokenFormat as TokenFormat)) {
      throw new Error(`${where}.tokenFormat must be one of ${TOKEN_FORMATS.join(', ')}`)
    }
    return c as unknown as DevClient
  })
}

/** Members of a JWK that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

/** The members each key type needs to be a public key (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['n', 'e'],
  EC: ['crv', 'x', 'y'],
  OKP: ['crv', 'x'],
}

/**
 * A client's JWK Set: public asymmetric keys only. A private key here would mean the server holds the
 * client's secret, and an `oct` key would turn `private_key_jwt` into a shared secret.
 */
function validateJwks(value: unknown, where: string): void {
  const keys = (value as { keys?: unknown } | null)?.keys
  if (typeof value !== 'object' || value === null || !Array.isArray(keys) || keys.length === 0) {
    throw new Error(`${where} must be a JWK Set: { "keys": [ ...public keys ] }`)
  }
  keys.forEach((key: unknown, i) => {
    const at = `${where}.keys[${i}]`
    if (typeof key !== 'object' || key === null || Array.isArray(key))
      throw new Error(`${at} must be an object`)
    const jwk = key as Record<string, unknown>
    const needed = typeof jwk.kty === 'string' ? PUBLIC_MEMBERS[jwk.kty] : undefined
    if (needed === undefined) throw new Error(`${at}.kty must be one of RSA, EC, OKP`)
    const secret = PRIVATE_MEMBERS.find((member) => member in jwk)
    if (secret !== undefined) {
      throw new Error(`${at} has the private member "${secret}": register the public key only`)
    }
    for (const member of needed) {
      if (typeof jwk[member] !== 'string' || jwk[member] === '') {
        throw new Error(`${at}.${member} must be a non-empty string`)
      }
    }
  })
}

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/**
 * Find the client and check its secret. Comparison is constant-time, and an unknown client id costs the
 * same as a wrong secret, so timing tells an attacker neither.
 */
export function authenticateClient(
  clients: readonly DevClient[],
  clientId: string,
  clientSecret: string,
): DevClient | undefined {
  const client = clients.find((c) => c.clientId === clientId)
  // Hashing first gives equal-length inputs to timingSafeEqual whatever the secrets' lengths. A client
  // without a secret costs the same as an unknown one, and fails like it.
  const expected = digest(client?.clientSecret ?? UNKNOWN_CLIENT_SECRET)
  const ok = timingSafeEqual(expected, digest(clientSecret))
  return client?.clientSecret !== undefined && ok ? client : undefined
}

const UNKNOWN_CLIENT_SECRET = newSecret()

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

export type ScopeGrant = { ok: true; scopes: string[] } | { ok: false; description: string }

/**
 * The scopes to put in the token. No `scope` parameter (or an empty one) means everything the client may
 * have; otherwise every requested scope must be allowed (RFC 6749 §5.2 `invalid_scope`). We refuse rather
 * than silently narrow, so a typo in a scope shows up at once instead of as a 403 later.
 */
export function grantScopes(client: DevClient, requested: string | undefined): ScopeGrant {
  if (requested === undefined || requested.trim() === '') return { ok: true, scopes: [...client.scopes] }
  const wanted = [...new Set(requested.split(' ').filter((s) => s !== ''))]
  for (const scope of wanted) {
    if (!SCOPE_TOKEN.test(scope)) return { ok: false, description: 'The scope parameter is malformed' }
    if (!client.scopes.includes(scope)) {
      return { ok: false, description: `The client may not request scope "${scope}"` }
    }
  }
  return { ok: true, scopes: wanted }
}
