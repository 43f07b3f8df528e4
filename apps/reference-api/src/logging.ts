/**
 * Structured JSON logs (Fastify's pino) with a request id, and nothing secret in them (STYLE.md §5):
 * the request serializer prints no headers at all, an `access_token` in the query string (RFC 6750 §2.3)
 * is replaced however its name is encoded, and `redact` removes credentials from any object a handler logs
 * by mistake.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyRequest } from 'fastify'

/** Pino levels accepted by `logLevel` / `LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Where log lines go: anything with pino's `write(line)`. Default: standard output. */
export interface LogStream {
  write(line: string): void
}

/**
 * Paths pino replaces with `[Redacted]` in every line. Credentials live in these headers; the request
 * serializer below never prints headers, so these catch `log.info({ headers: request.headers })` and the like.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'authorization',
  'res.headers["set-cookie"]',
]

/**
 * An `x-request-id` sent by a proxy is kept when it is short and plain (letters, digits, `. _ ~ : -`), so
 * logs of both hops join; anything else could forge or break log lines, and gets a fresh UUID instead.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._~:-]{1,64}$/

/** Fastify's `genReqId`: the caller's sane `x-request-id`, else a random UUID. */
export function requestId(req: IncomingMessage): string {
  const sent = req.headers['x-request-id']
  return typeof sent === 'string' && SANE_REQUEST_ID.test(sent) ? sent : randomUUID()
}

/**
 * Query parameters whose values are credentials: `access_token` (a bearer token, RFC 6750 §2.3) and the
 * other OAuth credentials a client might send by mistake. Compared after decoding, in lower case.
 */
export const REDACTED_QUERY_NAMES: ReadonlySet<string> = new Set([
  'access_token',
  'id_token',
  'refresh_token',
  'client_secret',
])

/**
 * The URL with the value of every credential query parameter replaced by `[Redacted]`.
 *
 * Names are matched as a query parser reads them (`+` is a space, `%5F` is `_`, RFC 3986 §2.1 hex in
 * either case), decoded repeatedly so a doubly encoded name is caught too, in any letter case, with
 * surrounding spaces ignored, and for every occurrence of a repeated name. A malformed escape (`%E0%A4%A`,
 * `%zz`) is kept as it is, never thrown on. `&` and `;` both separate parameters. Everything else in the
 * URL is kept as sent.
 */
export function safeUrl(url: string): string {
  const start = url.indexOf('?')
  if (start === -1) return url
  const query = url.slice(start + 1)
  const redacted = query.replace(/[^&;]+/g, (parameter) => {
    const equals = parameter.indexOf('=')
    if (equals === -1) return parameter
    const name = queryName(parameter.slice(0, equals))
    return REDACTED_QUERY_NAMES.has(name) ? `${parameter.slice(0, equals)}=[Redacted]` : parameter
  })
  return `${url.slice(0, start + 1)}${redacted}`
}

/** Most decoding rounds of a name: three catches `%25255F`; a name that needs more is no parser's name. */
const NAME_DECODE_ROUNDS = 3

/** A query parameter name as compared with {@link REDACTED_QUERY_NAMES}. */
function queryName(raw: string): string {
  let name = raw.replaceAll('+', ' ')
  for (let round = 0; round < NAME_DECODE_ROUNDS && name.includes('%'); round++) {
    const decoded = percentDecode(name)
    if (decoded === name) break
    name = decoded
  }
  return name.trim().toLowerCase()
}

/** Decodes each run of valid `%XX` escapes as UTF-8; malformed escapes stay as they are. */
function percentDecode(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
    Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'),
  )
}

/** Fastify's `logger` option for a level and an optional stream. */
export function loggerOptions(level: LogLevel, stream?: LogStream) {
  return {
    level,
    ...(stream === undefined ? {} : { stream }),
    redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
    serializers: {
      // Fastify's default also prints the URL as sent, query string included; ours masks tokens in it.
      req(request: FastifyRequest) {
        return {
          method: request.method,
          url: safeUrl(request.url),
          host: request.host,
          remoteAddress: request.ip,
        }
      },
    },
  }
}
