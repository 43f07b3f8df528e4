/**
 * Which URLs Gatehouse may fetch keys and metadata from: https everywhere, plain http only on a loopback
 * host (development and tests). A key set fetched over plain http from a real network can be replaced in
 * transit, and whoever replaces it can sign any token (issue 2, "Key store").
 */

/**
 * Whether the URL's host is a loopback host: `localhost`, an IPv4 address in 127.0.0.0/8, or `[::1]`.
 *
 * Relies on WHATWG URL normalisation (`127.1` → `127.0.0.1`, `[0:0::1]` → `[::1]`, `LOCALHOST` →
 * `localhost`). Does NOT resolve names: `localhost.example.com`, `localhost.` and IPv4-mapped IPv6
 * addresses (`[::ffff:127.0.0.1]`) are not loopback here, on purpose (no DNS, no surprises).
 *
 * @example
 * ```ts
 * isLoopbackUrl(new URL('http://127.0.0.1:8080/jwks')) // true
 * isLoopbackUrl(new URL('http://10.0.0.1/jwks'))       // false
 * ```
 */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname
  if (host === 'localhost' || host === '[::1]') return true
  // After normalisation an IPv4 host is always four decimal octets, so the first one is enough.
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/** Whether Gatehouse may fetch from this URL: `https:`, or `http:` on a loopback host ({@link isLoopbackUrl}). */
export function isSecureOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url))
}

/** The rule above in words, for error messages. */
export const SECURE_URL_RULE =
  'an https URL (plain http only on loopback hosts: 127.0.0.0/8, [::1], localhost)'
