/**
 * The trusted issuers of a verifier, and the table that finds the one a token names (RFC 7519 §4.1.1:
 * `iss` compared as a string): exact issuers in a Map, one lookup; then the matchers, in configuration
 * order. The table answers before any key lookup, so an untrusted issuer never causes a network request.
 */
import { fail, type IssuerOptions, type NormalizedIssuer, normalizeIssuer } from '../config/options.js'
import type { JWTClaims, KeyStore } from '../types.js'
import type { ClaimRules } from './claims.js'
import type { VerifierKeyStores } from './key-stores.js'

/** A trusted issuer, ready for requests: its normalized options, its claim rules and its keys. */
export interface Trust {
  readonly options: NormalizedIssuer
  readonly rules: ClaimRules
  readonly keys: KeyStore
}

export interface TrustTable {
  /** The trusted issuers, in configuration order. */
  readonly trusts: readonly Trust[]
  /** The trust whose issuer is `claims.iss`; undefined when `iss` is no string or names none. */
  trustOf(claims: JWTClaims): Trust | undefined
  /** Every configured issuer, matchers as text: what an untrusted `iss` is compared with, in a log. */
  readonly expected: readonly string[]
}

/**
 * Normalize each issuer's options, give it its key store, and index the result.
 * @throws TypeError naming the option (`issuers[1].audience: …`), or `issuers` when two list one issuer.
 */
export function createTrustTable(
  entries: readonly { options: IssuerOptions; where: string }[],
  stores: VerifierKeyStores,
): TrustTable {
  const trusts = entries.map(({ options, where }) =>
    createTrust(normalizeIssuer(options, where), where, stores),
  )

  const exact = new Map<string, Trust>()
  const matchers: Trust[] = []
  for (const trust of trusts) {
    for (const iss of trust.options.issuers) {
      if (exact.has(iss)) fail('issuers', 'each issuer at most once', iss)
      exact.set(iss, trust)
    }
    if (trust.options.matcher) matchers.push(trust)
  }

  function trustOf(claims: JWTClaims): Trust | undefined {
    const { iss } = claims
    if (typeof iss !== 'string') return undefined
    const found = exact.get(iss)
    if (found) return found
    for (const trust of matchers) if (trust.options.matcher!.test(iss)) return trust
    return undefined
  }

  const expected = Object.freeze(
    trusts.flatMap(({ options: o }) => (o.matcher ? [...o.issuers, String(o.matcher)] : o.issuers)),
  )
  return { trusts, trustOf, expected }
}

function createTrust(options: NormalizedIssuer, where: string, stores: VerifierKeyStores): Trust {
  return {
    options,
    rules: {
      audience: options.audience,
      clockTolerance: options.clockTolerance,
      maxTokenAge: options.maxTokenAge,
      requiredClaims: options.requiredClaims,
      typ: options.typ,
    },
    keys: stores.storeFor(options, where),
  }
}
