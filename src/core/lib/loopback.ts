/**
 * Which URLs Gatehouse may fetch keys and metadata from: https everywhere, plain http only on a loopback
 * host (development and tests), or anywhere when `allowInsecureRequests` is set explicitly (a development
 * network, e.g. a Keycloak container at http://keycloak:8080). A key set fetched over plain http from a
 * real network can be replaced in transit, and whoever replaces it can sign any token.
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

/**
 * Whether Gatehouse may fetch from this URL: {@link isSecureOrLoopback}, or any `http:` URL when
 * `allowInsecureRequests` is true (each such host is then reported once, see {@link warnInsecureRequests}).
 */
export function isAllowedUrl(url: URL, allowInsecureRequests: boolean): boolean {
  if (isSecureOrLoopback(url)) return true
  if (!allowInsecureRequests || url.protocol !== 'http:') return false
  warnInsecureRequests(url)
  return true
}

/** The rule above in words, for error messages. */
export const SECURE_URL_RULE =
  'an https URL (plain http only on loopback hosts: 127.0.0.0/8, [::1], localhost; elsewhere only with ' +
  'allowInsecureRequests, for a development network)'

const warned = new Set<string>()

/**
 * Say, once per host and process, that plain http is accepted there: through `process.emitWarning`
 * (printed to stderr by Node unless warnings are silenced), or `console.warn` where there is no `process`.
 */
export function warnInsecureRequests(url: URL): void {
  if (warned.has(url.host)) return
  warned.add(url.host)
  const message =
    `Gatehouse fetches keys and metadata from ${url.host} over plain http (allowInsecureRequests): ` +
    'anyone on that network can replace them and sign any token. Use it on a development network only.'
  const proc = (globalThis as { process?: { emitWarning?: (m: string, o: object) => void } }).process
  if (typeof proc?.emitWarning === 'function') {
    proc.emitWarning(message, { type: 'SecurityWarning', code: 'GATEHOUSE_INSECURE_REQUESTS' })
  } else {
    console.warn(message)
  }
}
