/**
 * Minting tokens without going through the token endpoint: for tests (`DevIssuer.mint`) and for
 * `gatehouse token`, which signs with the keys in the data folder.
 */
import { join } from 'node:path'
import { readJsonFile } from './files.js'
import type { KeyRing } from './keys.js'
import type { DevAlgorithm } from './options.js'
import { accessTokenClaims, signToken, type TokenFormat } from './tokens.js'

/** Options of `mint`. Everything a test may want to forge. */
export interface MintOptions {
  /** Sign with the current key of this algorithm (created and published if there is none). Default: the issuer's. */
  alg?: DevAlgorithm
  /** Lifetime in seconds; negative gives an already expired token. Default: the issuer's token lifetime. */
  expiresIn?: number
  /** Sign with this published key (e.g. one retired by a rotation). Throws if no published key has it. */
  kid?: string
  /** Merged over `{ alg, typ: "at+jwt", kid }`; `undefined` removes a member (see `signToken` for forged `alg`). */
  header?: Record<string, unknown>
  /** The `sub` claim. Default `"dev-user"`. */
  sub?: string
  /**
   * `'opaque'`: keep the claims and return a reference token, which the issuer's introspection endpoint
   * answers for (`alg`, `kid` and `header` do not apply). Default `'jwt'`. `DevIssuer.mint` only.
   */
  format?: TokenFormat
}

export interface MintDefaults {
  issuer: string
  audience: string
  alg: DevAlgorithm
  /** Seconds. */
  lifetime: number
}

/** Client id put in tokens minted outside the token endpoint. */
export const MINT_CLIENT_ID = 'gatehouse-dev'

export async function mintWithKeyRing(
  keys: KeyRing,
  defaults: MintDefaults,
  claims: Record<string, unknown> = {},
  opts: MintOptions = {},
): Promise<string> {
  if (opts.format === 'opaque') throw new TypeError('format: opaque tokens are kept by a running issuer')
  let key: Awaited<ReturnType<KeyRing['current']>> | undefined
  if (opts.kid !== undefined) {
    key = await keys.byKid(opts.kid)
    if (key === undefined) throw new Error(`mint: no published key has kid ${JSON.stringify(opts.kid)}`)
  } else {
    key = await keys.current(opts.alg ?? defaults.alg)
  }
  return signToken(key, mintClaims(defaults, claims, opts), opts.header)
}

/** The claims `mint` puts in a token: RFC 9068's defaults, overridden by `claims` (`undefined` values stay). */
export function mintClaims(
  defaults: MintDefaults,
  claims: Record<string, unknown>,
  opts: MintOptions,
): Record<string, unknown> {
  const base = accessTokenClaims({
    issuer: defaults.issuer,
    audience: defaults.audience,
    sub: opts.sub ?? 'dev-user',
    clientId: MINT_CLIENT_ID,
    scopes: [],
    expiresIn: opts.expiresIn ?? defaults.lifetime,
    now: Date.now(),
  })
  return { ...base, ...claims }
}

/**
 * What a running (or last run) issuer wrote to `{dataDir}/issuer.json`, so `gatehouse token` mints tokens
 * with the `iss` and `aud` that issuer's consumers expect.
 */
export interface IssuerState {
  issuer: string
  audience: string
  url: string
  alg: DevAlgorithm
}

export const STATE_FILE = 'issuer.json'

/** The state file's content, or undefined when there is none or it is unreadable. */
export async function readIssuerState(dataDir: string): Promise<IssuerState | undefined> {
  try {
    const state = (await readJsonFile(join(dataDir, STATE_FILE))) as Partial<IssuerState> | undefined
    if (typeof state?.issuer !== 'string' || typeof state.audience !== 'string') return undefined
    return state as IssuerState
  } catch {
    return undefined
  }
}
