/**
 * The `htu` comparison (RFC 9449 §4.3 check 9): the proof's `htu` and the request's URL are compared
 * without query and fragment, after the normalizations RFC 9449 asks servers to apply: syntax-based (RFC
 * 3986 §6.2.2) and scheme-based (§6.2.3).
 *
 * The WHATWG URL parser does most of it: scheme and host to lower case (§6.2.2.1), dot segments removed
 * (§6.2.2.3, `%2e` counted as a dot, as it is unreserved), the default port dropped and an empty path made
 * `/` (§6.2.3), non-ASCII percent-encoded. What it leaves, done here: percent-encoded octets in upper case
 * (`%7e` → `%7E`) and percent-encoded unreserved characters decoded (`%41` → `A`), §6.2.2.1 and §6.2.2.2.
 * Nothing else is merged: `%2F` stays distinct from `/`, a trailing slash matters, and only http and https
 * URLs are accepted.
 */

const PERCENT_ENCODED = /%([0-9A-Fa-f]{2})/g

/** RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x5f ||
    code === 0x7e
  )
}

function normalizePercentEncoding(text: string): string {
  if (!text.includes('%')) return text
  return text.replace(PERCENT_ENCODED, (_, hex: string) => {
    const code = Number.parseInt(hex, 16)
    return isUnreserved(code) ? String.fromCharCode(code) : `%${hex.toUpperCase()}`
  })
}

/**
 * `value` (an absolute http or https URI) normalized for the `htu` comparison, without query and
 * fragment; undefined when it is not an absolute http or https URL.
 *
 * @example normalizeHtu('HTTPS://API.Example.com:443/a/./b/../%7euser?x=1#f') // 'https://api.example.com/a/~user'
 */
export function normalizeHtu(value: string | URL): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  url.search = ''
  url.hash = ''
  const { href, pathname } = url
  const normalized = normalizePercentEncoding(pathname)
  return normalized === pathname ? href : href.slice(0, href.length - pathname.length) + normalized
}

/** `url` as a string without its query and fragment: what a client's `htu` usually is, character for character. */
export function withoutQuery(url: string): string {
  const query = url.indexOf('?')
  const fragment = url.indexOf('#')
  const end = query === -1 ? fragment : fragment === -1 ? query : Math.min(query, fragment)
  return end === -1 ? url : url.slice(0, end)
}

/**
 * Whether the proof's `htu` names the request's URL (`requestUrl`: absolute, query and fragment
 * ignored). Equal strings match without parsing when the URL starts with `https://` or `http://`;
 * otherwise both are normalized.
 */
export function htuMatches(htu: string, requestUrl: string): boolean {
  // Only an absolute URL may match as it is: a relative one would let a proof serve every host.
  const absolute = requestUrl.startsWith('https://') || requestUrl.startsWith('http://')
  if (absolute && htu === withoutQuery(requestUrl)) return true
  const expected = normalizeHtu(requestUrl)
  return expected !== undefined && normalizeHtu(htu) === expected
}
