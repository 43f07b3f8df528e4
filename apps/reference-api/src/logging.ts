/**
 * Structured JSON logs (Fastify's pino) with a request id, and nothing secret in them (STYLE.md §5):
 * the request serializer prints no headers at all, an `access_token` in the query string (RFC 6750 §2.3)
 * is replaced, and `redact` removes credentials from any object a handler logs by mistake.
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

/** Replaces the value of every `access_token` query parameter (a bearer token, RFC 6750 §2.3). */
export function safeUrl(url: string): string {
  return url.replace(/([?&;]access_token=)[^&;#]*/gi, '$1[Redacted]')
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
