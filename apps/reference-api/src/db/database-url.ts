/** The form `DATABASE_URL` must take, quoted in every error about it. */
export const DATABASE_URL_FORM = 'postgres://user:pass@host:5432/db'

/** A checked PostgreSQL URL and what the app may print about it (never the password). */
export interface DatabaseUrlInfo {
  /** The URL exactly as given, to hand to node-postgres (which also reads `?sslmode=` and friends). */
  connectionString: string
  /** `host:port/database`, safe for logs and error messages (no credentials). */
  display: string
}

/**
 * Checks that `value` is a PostgreSQL connection URL of the form `postgres://user:pass@host:5432/db`
 * (scheme `postgres:` or `postgresql:`, a host or a `?host=` socket folder, a database name) and returns
 * it with a password-free description.
 *
 * Throws an `Error` whose message names DATABASE_URL and the expected form. The message never contains the
 * value itself, and the URL parser's error is not attached as `cause`, because both could hold the password.
 *
 * Does NOT connect, and does NOT check the user, password or TLS parameters: the server does that.
 */
export function parseDatabaseUrl(value: string): DatabaseUrlInfo {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid('it is not a URL (percent-encode special characters such as # / ? @ in the password)')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    // The scheme is safe to echo: it precedes any credentials and is a plain token.
    throw invalid(`its scheme is "${url.protocol}", not "postgres:"`)
  }
  const socketDir = url.searchParams.get('host')
  if (url.hostname === '' && !socketDir) throw invalid('it has no host')
  const database = safeDecode(url.pathname.replace(/^\//, ''))
  if (database === '') throw invalid('it names no database')
  const host = url.hostname === '' ? (socketDir ?? '') : url.hostname
  return { connectionString: value, display: `${host}:${url.port || '5432'}/${database}` }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

function invalid(reason: string): Error {
  return new Error(`DATABASE_URL is not a valid PostgreSQL URL: ${reason}; expected ${DATABASE_URL_FORM}`)
}
