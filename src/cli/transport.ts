/**
 * Whether `doctor` and `inspect` may fetch from a URL, decided by the core's own rule (src/core/lib/loopback.ts)
 * so that the CLI and the API cannot disagree: https; plain http on a loopback host; plain http anywhere
 * else only with `allowInsecureRequests` (GATEHOUSE_ALLOW_INSECURE_REQUESTS=1, --allow-insecure-requests).
 * Also the words both commands print about it.
 */

import type { VerifierOptions } from '../core/config/options.js'
import { isAllowedUrl, isSecureOrLoopback } from '../core/lib/loopback.js'

/**
 * `protected`: https, or http to a loopback host (the traffic never leaves the machine).
 * `insecure`: plain http to another host, accepted because `allowInsecureRequests` is on.
 * `refused`: anything else, as the verifier refuses it.
 */
export type Transport = 'protected' | 'insecure' | 'refused'

/**
 * How the verifier treats a fetch from `url`.
 *
 * @example
 * ```ts
 * transportOf(new URL('http://keycloak:8080/realms/dev'), false) // 'refused'
 * transportOf(new URL('http://keycloak:8080/realms/dev'), true)  // 'insecure'
 * transportOf(new URL('http://127.0.0.1:9000'), false)           // 'protected'
 * ```
 */
export function transportOf(url: URL, allowInsecureRequests: boolean): Transport {
  if (isSecureOrLoopback(url)) return 'protected'
  return isAllowedUrl(url, allowInsecureRequests) ? 'insecure' : 'refused'
}

/** How to switch the opt-out on, in both of the CLI's spellings. */
export const INSECURE_OPT_IN = 'GATEHOUSE_ALLOW_INSECURE_REQUESTS=1 (or --allow-insecure-requests)'

/** Why a `refused` URL is refused, and what to do. */
export function refusedReason(url: URL): string {
  if (url.protocol !== 'http:') return `${url.href} is not an https URL`
  return (
    `${url.href} is plain http to a host that is not loopback, which Gatehouse refuses: keys fetched ` +
    `without TLS can be replaced in transit. Use https, or on a development network only set ${INSECURE_OPT_IN}`
  )
}

/** The warning line of an `insecure` URL. */
export function insecureReason(url: URL): string {
  return (
    `requests to ${url.host} are not protected by TLS (GATEHOUSE_ALLOW_INSECURE_REQUESTS is on): anyone ` +
    'on that network can replace the keys and sign any token. Use it on a development network only'
  )
}

/**
 * The first URL a verifier built from `options` fetches: the JWKS URL when one is configured, else the
 * issuer's own URL (its metadata, or `{issuer}/.well-known/jwks.json`). Undefined with local keys.
 */
export function sourceUrl(options: VerifierOptions): URL | undefined {
  if (options.keys !== undefined) return undefined
  if (options.jwksUri !== undefined) return new URL(String(options.jwksUri))
  const { issuer, domain } = options
  const first = issuer === undefined ? `https://${domain}` : Array.isArray(issuer) ? issuer[0] : issuer
  return typeof first === 'string' && URL.canParse(first) ? new URL(first) : undefined
}
