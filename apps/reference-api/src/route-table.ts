/**
 * The routes the app registered, recorded by an `onRoute` hook: the not-found handler uses them to tell a
 * wrong method (405 with `Allow`, RFC 9110 §15.5.6) from a wrong path (404), and the tests use them to
 * check that the OpenAPI document lists every route.
 */
import type { FastifyInstance, RouteOptions } from 'fastify'
import type { RouteAccess } from 'gatehouse/fastify'

/** One registered route. */
export interface RouteEntry {
  method: string
  /** Fastify's pattern, e.g. `/api/messages/:id`. */
  url: string
  /** The route's `config.access`: `undefined` for "a valid token" (protectAll), `'public'` for public. */
  access: RouteAccess | undefined
}

export interface RouteTable {
  readonly routes: readonly RouteEntry[]
  /** Methods registered for a concrete request path (no query string), sorted; empty when none. */
  methodsFor(path: string): string[]
}

/** Start recording; call before any route is added. */
export function recordRoutes(app: FastifyInstance): RouteTable {
  const routes: RouteEntry[] = []
  const patterns: { method: string; pattern: RegExp }[] = []
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) {
      routes.push({ method, url: route.url, access: route.config?.access })
      patterns.push({ method, pattern: toPattern(route.url) })
    }
  })
  return {
    routes,
    methodsFor(path) {
      const found = new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method))
      return [...found].sort()
    },
  }
}

/** `/api/messages/:id` → `^/api/messages/[^/]+$`. Only named parameters are used in this app. */
function toPattern(url: string): RegExp {
  const parts = url.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : escapeRegExp(part)))
  return new RegExp(`^${parts.join('/')}$`)
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
