/**
 * The reference API as a Fastify instance, without listening: `startReferenceApi` (start.ts) listens, and
 * the tests build it with their own database and issuer.
 *
 * Authentication and authorization are the gatehouse Fastify plugin's alone: every route needs a valid
 * token unless its `config.access` is `'public'` (protectAll: protected unless marked public), and
 * per-route rules name scopes and roles. Scopes come from the `scope` claim, roles from `roles`, permissions from `permissions` (the
 * core's default claim mapping; pass `auth.claims` to read them elsewhere). The app adds only the
 * principal hook (token `sub` → user row), its routes, and the rendering of non-Gatehouse errors.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { EnvOptions, KeyStoreEvent } from 'gatehouse'
import gatehouse from 'gatehouse/fastify'
import type { Database } from './db/index.js'
import { errorHandler, frameworkErrors, notFound, sendApiError } from './errors.js'
import { type LogLevel, type LogStream, loggerOptions, requestId } from './logging.js'
import { openApiFor } from './openapi.js'
import { userResolver } from './principal.js'
import { type RouteTable, recordRoutes } from './route-table.js'
import { messageRoutes } from './routes/messages.js'
import { sampleRoutes } from './routes/samples.js'
import { userRoutes } from './routes/users.js'

/** Largest request body, in bytes: a 2000-character message with every character `\u`-escaped fits. */
export const BODY_LIMIT = 64 * 1024

export interface BuildAppOptions {
  /** The open database. Not closed by the app: whoever opened it closes it (start.ts does on close). */
  db: Database
  /** How tokens are verified and presented: issuer, audience, keys, DPoP… (what gatehouse's `optionsFromEnv` returns). */
  auth: EnvOptions
  /** Pino level. Default `'info'`. */
  logLevel?: LogLevel
  /** Where log lines go. Default: standard output. */
  logStream?: LogStream
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The routes of the reference API, for its not-found handler and its tests. */
    routeTable: RouteTable
  }
}

/**
 * Build the app. Its gate (and the gate's key-store timers) closes with `app.close()`; the database
 * does not.
 *
 * @example
 * const app = await buildApp({ db, auth: { issuer: issuer.issuer, audience: issuer.audience } })
 * await app.listen({ port: 0, host: '127.0.0.1' })
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { db, auth, logLevel = 'info', logStream } = options
  const app = Fastify({
    logger: loggerOptions(logLevel, logStream),
    genReqId: requestId,
    bodyLimit: BODY_LIMIT,
    frameworkErrors,
  })
  // The API speaks JSON only: without this, text/plain bodies would reach the handlers as strings.
  app.removeContentTypeParser('text/plain')
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  app.decorate('routeTable', recordRoutes(app))

  // Keys loaded before listening (the start's warmUp) are not a change: the ready line says enough.
  let listening = false
  app.addHook('onListen', async () => {
    listening = true
  })
  await app.register(gatehouse, {
    ...auth,
    principal: userResolver(db),
    // Key-store events in the log, for the key sets the verifier builds (a `keys` store has its own).
    ...(auth.keys === undefined && {
      keySet: {
        ...auth.keySet,
        onEvent: (event: KeyStoreEvent) => {
          logKeyStoreEvent(app, event, listening)
          auth.keySet?.onEvent?.(event)
        },
      },
    }),
    // Why each request was refused: the code, the status and what was checked (never the token).
    onRejection: ({ error, method, path }) => {
      const cause = error.cause instanceof Error ? error.cause.message : error.cause
      app.log[error.status >= 500 ? 'warn' : 'info'](
        { code: error.code, status: error.status, cause, method, path },
        'request refused',
      )
    },
    // One error handler for the whole app (errors.ts), which renders GatehouseErrors with the gate.
    errorHandler: false,
  })
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler((request, reply) => {
    const allowed = app.routeTable.methodsFor(request.url.split('?')[0] ?? '')
    if (allowed.length === 0) return notFound(reply)
    reply.header('allow', allowed.join(', '))
    return sendApiError(reply, 405, 'method_not_allowed', `Allowed methods: ${allowed.join(', ')}`)
  })

  const document = openApiFor(auth)
  app.get('/openapi.json', { config: { access: 'public' } }, async () => document)
  sampleRoutes(app)
  userRoutes(app, db)
  messageRoutes(app, db)
  return app
}

/** Key-store events in the logs: a rotation shows as `keys-changed`, an outage as `fetch-error`. */
function logKeyStoreEvent(app: FastifyInstance, event: KeyStoreEvent, listening: boolean): void {
  switch (event.type) {
    case 'fetch-error':
      app.log.warn(
        { jwks: event.url, servingStale: event.servingStale, err: event.error },
        'key set fetch failed',
      )
      break
    case 'keys-changed':
      app.log[listening ? 'info' : 'debug'](
        { added: event.added, removed: event.removed },
        'signing keys changed',
      )
      break
    default:
      app.log.debug({ keyStore: event }, `key store ${event.type}`)
  }
}
