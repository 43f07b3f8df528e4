/**
 * Host names as configuration gives them (`tenant.example.com`, `localhost:8443`): checked against the
 * DNS rules at construction, so that a typo stops start-up instead of failing at the first fetch.
 */

/**
 * Dot-separated labels of letters, digits and inner hyphens, 1–63 characters each (RFC 1123 §2.1,
 * RFC 1035 §2.3.4), then an optional `:port`; 253 characters at most in all.
 */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::\d{1,5})?$/

/**
 * Whether `value` is a DNS host name, optionally followed by `:port` (e.g. `tenant.us.auth0.com`,
 * `keycloak:8080`). An IPv4 address passes (its octets are labels).
 *
 * Does NOT accept a scheme, a path, a trailing dot, underscores, or a bracketed IPv6 literal; does not
 * check that the port is at most 65535, nor resolve the name.
 */
export function isHostName(value: unknown): value is string {
  return typeof value === 'string' && HOST_NAME.test(value)
}
