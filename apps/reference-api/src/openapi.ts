/**
 * The OpenAPI 3.1 document of the reference API, served at `GET /openapi.json`. Written by hand: the app
 * has a dozen routes, and a generator would be a dependency for less than this file. The tests check that
 * every registered route is here with the security its `config.access` says, so the two cannot drift.
 *
 * Security: one `bearerAuth` scheme (`http`/`bearer`, JWT access tokens, RFC 6750 + RFC 9068), and
 * `dpopAuth` when DPoP is on ({@link openApiFor}). An
 * operation's `security` lists the scopes it requires (OpenAPI 3.1 allows scopes on non-OAuth schemes);
 * `security: []` marks a public operation; a role requirement is in `x-required-roles`, which OpenAPI has
 * no field for.
 */

const json = (schema: object) => ({ 'application/json': { schema } })
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const error = (description: string) => ({ description, content: json(ref('Error')) })

/** The error responses every protected operation can give (the gate's, RFC 6750 §3.1). */
const authErrors = {
  '400': error('Malformed bearer credentials (`invalid_request`)'),
  '401': error('No token, or an invalid one (`invalid_token`); see the `WWW-Authenticate` header'),
  '403': error('The token lacks a required scope, role or ownership (`insufficient_scope`)'),
  '503': error('The signing keys cannot be fetched right now; retry later'),
}
const bearer = (...scopes: string[]) => [{ bearerAuth: scopes }]
const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'Message id: a decimal integer from 1 to 2147483647. Anything else is a 404.',
  schema: { type: 'string', pattern: '^[1-9][0-9]{0,9}$' },
}
const pageParameters = [
  {
    name: 'limit',
    in: 'query',
    description: 'Most items returned, 1 to 100 (larger values are clamped). Default 50.',
    schema: { type: 'integer', minimum: 1, maximum: 999999999 },
  },
  {
    name: 'after',
    in: 'query',
    description:
      'Only items whose id is greater than this (a keyset cursor: stable while items are added or ' +
      'deleted). The `next` link sets it to the last id of the page. Default: from the first item.',
    schema: { type: 'integer', minimum: 0, maximum: 2147483647 },
  },
  {
    name: 'offset',
    in: 'query',
    description: 'Items skipped, in id order (after `after` when both are given). Default 0.',
    schema: { type: 'integer', minimum: 0, maximum: 999999999 },
  },
]
/** A list's 200: a bare array, and a `Link` header to the next page while more items follow. */
const page = (item: string) => ({
  description:
    'One page, in id order. While more items follow, `Link: </path?limit=N&after=ID>; rel="next"` ' +
    '(RFC 8288) names the next page; the last page has no `next` link.',
  headers: {
    Link: {
      description: 'RFC 8288 link to the next page, `rel="next"`; absent on the last page',
      schema: { type: 'string' },
    },
  },
  content: json({ type: 'array', items: ref(item) }),
})
const pageError = error(
  'Bad credentials, or a `limit`, `offset` or `after` that is not a plain non-negative integer in range, ' +
    'or is repeated',
)
const textBody = {
  required: true,
  content: json({
    type: 'object',
    required: ['text'],
    properties: { text: { type: 'string', minLength: 1, maxLength: 2000 } },
  }),
}
const message = (text: string) => ({
  description: 'OK',
  content: json({ type: 'object', required: ['message'], properties: { message: { const: text } } }),
})

/** The document. A plain JSON value: `JSON.stringify(openApiDocument)` is what `/openapi.json` serves. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Gatehouse reference API',
    version: '0.1.0',
    description:
      'The AuthAction, Auth0 and axioms-drf-py samples as one service, protected by gatehouse. Tokens: RFC 9068 JWT access tokens; scopes ' +
      'from `scope`, roles from `roles`, permissions from `permissions`. Errors: `{ error, error_description }`, ' +
      'plus `code` (and `required` on 403) when Gatehouse refused the request.',
  },
  security: bearer(),
  paths: {
    '/public': {
      get: {
        summary: 'Public message (AuthAction’s Django sample)',
        security: [],
        responses: { '200': message('This is a public message!') },
      },
    },
    '/protected': {
      get: {
        summary: 'Protected message with the caller’s sub (AuthAction’s Django sample)',
        security: bearer(),
        responses: {
          '200': {
            description: 'OK',
            content: json({
              type: 'object',
              required: ['message', 'sub'],
              properties: { message: { const: 'This is a protected message!' }, sub: { type: 'string' } },
            }),
          },
          ...authErrors,
        },
      },
    },
    '/api/public': {
      get: {
        summary: 'Public endpoint (Auth0’s Django API sample)',
        security: [],
        responses: {
          '200': message("Hello from a public endpoint! You don't need to be authenticated to see this."),
        },
      },
    },
    '/api/private': {
      get: {
        summary: 'Private endpoint (Auth0’s Django API sample)',
        security: bearer(),
        responses: {
          '200': message('Hello from a private endpoint! You need to be authenticated to see this.'),
          ...authErrors,
        },
      },
    },
    '/api/private-scoped': {
      get: {
        summary: 'Private endpoint that needs read:messages (Auth0’s Django API sample)',
        security: bearer('read:messages'),
        responses: {
          '200': message(
            'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
          ),
          ...authErrors,
        },
      },
    },
    '/api/users/me': {
      get: {
        summary: 'The caller’s user record, created on first sight (the Auth0 DRF guide)',
        security: bearer(),
        responses: { '200': { description: 'OK', content: json(ref('User')) }, ...authErrors },
      },
    },
    '/api/users': {
      get: {
        summary: 'Every user (role admin), a page at a time',
        security: bearer(),
        'x-required-roles': ['admin'],
        parameters: pageParameters,
        responses: { '200': page('User'), ...authErrors, '400': pageError },
      },
    },
    '/api/messages': {
      get: {
        summary: 'Messages, oldest first, a page at a time',
        security: bearer('read:messages'),
        parameters: pageParameters,
        responses: { '200': page('Message'), ...authErrors, '400': pageError },
      },
      post: {
        summary: 'Post a message; the caller’s sub becomes its owner',
        security: bearer('write:messages'),
        requestBody: textBody,
        responses: {
          '201': {
            description: 'Created; `Location` names the new message',
            content: json(ref('Message')),
          },
          ...authErrors,
          '400': error('Bad credentials, or a body that is not a JSON object with a valid `text`'),
          '413': error('The body is larger than 64 KiB'),
          '415': error('The body is not sent as application/json'),
        },
      },
    },
    '/api/messages/{id}': {
      parameters: [idParameter],
      get: {
        summary: 'One message',
        security: bearer('read:messages'),
        responses: {
          '200': { description: 'OK', content: json(ref('Message')) },
          ...authErrors,
          '404': error('No such message'),
        },
      },
      patch: {
        summary: 'Replace a message’s text (its owner only)',
        security: bearer('write:messages'),
        requestBody: textBody,
        responses: {
          '200': { description: 'OK', content: json(ref('Message')) },
          ...authErrors,
          '400': error('Bad credentials, or a body that is not a JSON object with a valid `text`'),
          '403': error('Missing scope, or the caller does not own the message (`ERR_POLICY_OWNER`)'),
          '404': error('No such message'),
          '413': error('The body is larger than 64 KiB'),
          '415': error('The body is not sent as application/json'),
        },
      },
      delete: {
        summary: 'Delete a message (its owner only)',
        security: bearer('write:messages'),
        responses: {
          '204': { description: 'Deleted' },
          ...authErrors,
          '403': error('Missing scope, or the caller does not own the message (`ERR_POLICY_OWNER`)'),
          '404': error('No such message'),
        },
      },
    },
    '/openapi.json': {
      get: {
        summary: 'This document',
        security: [],
        responses: { '200': { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) } },
      },
    },
  },
  components: {
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'An OAuth 2.0 access token (RFC 9068) in `Authorization: Bearer <token>` (RFC 6750 §2.1).',
      },
    },
    schemas: {
      Message: {
        type: 'object',
        required: ['id', 'text', 'owner', 'created_at'],
        properties: {
          id: { type: 'integer', minimum: 1 },
          text: { type: 'string', minLength: 1, maxLength: 2000 },
          owner: { type: 'string', description: 'The `sub` of the token that posted it' },
          created_at: { type: 'string', format: 'date-time' },
        },
      },
      User: {
        type: 'object',
        required: ['id', 'sub', 'username', 'created_at'],
        properties: {
          id: { type: 'integer', minimum: 1 },
          sub: { type: 'string' },
          username: {
            type: 'string',
            description: 'The `sub` with every `|` replaced by `.` (Auth0’s Django API sample)',
          },
          created_at: { type: 'string', format: 'date-time' },
        },
      },
      Error: {
        type: 'object',
        required: ['error', 'error_description'],
        properties: {
          error: {
            type: 'string',
            description:
              'RFC 6750 code (`invalid_request`, `invalid_token`, `insufficient_scope`), `unauthorized` when ' +
              'no token was sent, or `not_found`, `method_not_allowed`, `server_error`, `temporarily_unavailable`',
          },
          error_description: { type: 'string' },
          code: {
            type: 'string',
            description: 'Gatehouse code, e.g. ERR_JWT_EXPIRED (Gatehouse errors only)',
          },
          required: { type: 'object', description: 'What a 403 required (Gatehouse errors only)' },
        },
      },
    },
  },
} as const

/** What the document's security depends on: how tokens may be presented and what they may be. */
export interface OpenApiAuth {
  /** The DPoP mode (GATEHOUSE_DPOP): `allowed` adds the `dpopAuth` alternative, `required` keeps it alone. */
  dpop?: 'off' | 'allowed' | 'required'
  /** Introspection configured (GATEHOUSE_CLIENT_ID): tokens may be opaque, unless the source is `jwt`. */
  introspection?: object
  tokenSource?: 'jwt' | 'introspection' | 'auto'
}

const dpopAuth = {
  type: 'http',
  scheme: 'DPoP',
  description:
    'A DPoP-bound access token in `Authorization: DPoP <token>`, with a proof of the key it is bound to ' +
    'in the `DPoP` header (RFC 9449 §7.1), made for this method and URL.',
} as const

/**
 * The document as this configuration serves it. With DPoP on, each protected operation lists the
 * `dpopAuth` scheme (an HTTP authentication scheme in the IANA registry, as OpenAPI 3.1 asks) with the same
 * scopes, beside `bearerAuth` (`allowed`) or instead of it (`required`); with introspection, the bearer
 * token is no longer said to be a JWT. Without either, {@link openApiDocument} itself.
 */
export function openApiFor(auth: OpenApiAuth): typeof openApiDocument {
  const dpop = auth.dpop ?? 'off'
  const opaque = auth.introspection !== undefined && auth.tokenSource !== 'jwt'
  if (dpop === 'off' && !opaque) return openApiDocument
  const { bearerFormat: _, ...anyBearer } = openApiDocument.components.securitySchemes.bearerAuth
  const bearerAuth = opaque
    ? {
        ...anyBearer,
        description:
          'An OAuth 2.0 access token in `Authorization: Bearer <token>` (RFC 6750 §2.1): a JWT (RFC 9068) ' +
          'verified here, or an opaque token the authorization server is asked about (RFC 7662).',
      }
    : openApiDocument.components.securitySchemes.bearerAuth
  const schemes = (scopes: readonly string[]) =>
    dpop === 'off'
      ? [{ bearerAuth: scopes }]
      : dpop === 'required'
        ? [{ dpopAuth: scopes }]
        : [{ bearerAuth: scopes }, { dpopAuth: scopes }]
  const paths = Object.fromEntries(
    Object.entries(openApiDocument.paths).map(([path, item]) => [
      path,
      Object.fromEntries(
        Object.entries(item).map(([method, operation]) => {
          const security = (operation as { security?: readonly Record<string, readonly string[]>[] }).security
          const scopes = security?.[0]?.bearerAuth
          return [method, scopes === undefined ? operation : { ...operation, security: schemes(scopes) }]
        }),
      ),
    ]),
  )
  return {
    ...openApiDocument,
    security: schemes([]),
    paths,
    components: {
      ...openApiDocument.components,
      securitySchemes: {
        ...(dpop !== 'required' && { bearerAuth }),
        ...(dpop !== 'off' && { dpopAuth }),
      },
    },
  } as unknown as typeof openApiDocument
}
