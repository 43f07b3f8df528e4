/**
 * Every server the HTTP benchmark starts, in table row order. The parent process reads ids, labels and
 * kinds from here; the server process (server.js) builds the app for one entry from apps/<framework>.js.
 *
 * kind: 'baseline' (the same route with no auth, the ratio's denominator), 'gatehouse', 'peer' (the
 * targets compare against these), 'reference' (a hand-written verifier, not a library), 'dpop'
 * (Gatehouse with DPoP allowed, sent DPoP requests: compared with the same framework's Bearer row) or
 * 'opaque' (Gatehouse with introspection, sent opaque tokens whose answers it keeps in memory).
 */

export const FRAMEWORKS = ['express', 'fastify', 'hono']

export const SETUPS = [
  { framework: 'express', id: 'none', label: 'no auth', kind: 'baseline' },
  { framework: 'express', id: 'gatehouse', label: '**gatehouse**', kind: 'gatehouse' },
  { framework: 'express', id: 'gatehouse-cache', label: '**gatehouse, cache: true**', kind: 'gatehouse' },
  { framework: 'express', id: 'express-oauth2-jwt-bearer', label: 'express-oauth2-jwt-bearer', kind: 'peer' },
  { framework: 'express', id: 'express-jwt', label: 'express-jwt + jwks-rsa', kind: 'peer' },
  { framework: 'express', id: 'gatehouse-dpop', label: '**gatehouse, DPoP requests**', kind: 'dpop' },
  {
    framework: 'express',
    id: 'gatehouse-opaque',
    label: '**gatehouse, opaque tokens (introspection)**',
    kind: 'opaque',
  },
  { framework: 'fastify', id: 'none', label: 'no auth', kind: 'baseline' },
  { framework: 'fastify', id: 'gatehouse', label: '**gatehouse**', kind: 'gatehouse' },
  { framework: 'fastify', id: 'gatehouse-cache', label: '**gatehouse, cache: true**', kind: 'gatehouse' },
  {
    framework: 'fastify',
    id: 'gatehouse-offload',
    label: '**gatehouse, offload: true**',
    kind: 'gatehouse',
  },
  { framework: 'fastify', id: 'fastify-jwt-jwks', label: 'fastify-jwt-jwks', kind: 'peer' },
  {
    framework: 'fastify',
    id: 'strict-rs256',
    label: 'hand-written strict RS256 (reference)',
    kind: 'reference',
  },
  { framework: 'fastify', id: 'gatehouse-dpop', label: '**gatehouse, DPoP requests**', kind: 'dpop' },
  {
    framework: 'fastify',
    id: 'gatehouse-opaque',
    label: '**gatehouse, opaque tokens (introspection)**',
    kind: 'opaque',
  },
  { framework: 'hono', id: 'none', label: 'no auth', kind: 'baseline' },
  { framework: 'hono', id: 'gatehouse', label: '**gatehouse**', kind: 'gatehouse' },
  { framework: 'hono', id: 'gatehouse-cache', label: '**gatehouse, cache: true**', kind: 'gatehouse' },
  { framework: 'hono', id: 'hono-jwk', label: 'hono/jwk (jwks_uri)', kind: 'peer' },
  { framework: 'hono', id: 'gatehouse-dpop', label: '**gatehouse, DPoP requests**', kind: 'dpop' },
  {
    framework: 'hono',
    id: 'gatehouse-opaque',
    label: '**gatehouse, opaque tokens (introspection)**',
    kind: 'opaque',
  },
]

/** The protected route's answer, as in AuthAction's samples (`GET /protected`). */
export const MESSAGE = 'This is a protected message!'

/** What the no-auth servers put in `sub`: nothing was verified, but the body keeps the same shape. */
export const ANONYMOUS_SUB = 'anonymous'
