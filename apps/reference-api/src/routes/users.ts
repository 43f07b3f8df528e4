/**
 * Users (the Auth0 DRF guide): `GET /api/users/me` answers the caller's row, which the principal hook created on first
 * sight; `GET /api/users` lists every user, for the `admin` role only (read from the `roles` claim), a page at a
 * time with a `Link: <…>; rel="next"` header while more follow (paging.ts).
 */
import type { FastifyInstance } from 'fastify'
import { type Database, pageUsers, toUserJson } from '../db/index.js'
import { badRequest } from '../errors.js'
import { userOf } from '../principal.js'
import { linkNext, pageOf } from './paging.js'

export function userRoutes(app: FastifyInstance, db: Database): void {
  app.get('/api/users/me', async (request) => toUserJson(userOf(request)))

  app.get('/api/users', { config: { access: { roles: 'admin' } } }, async (request, reply) => {
    const paging = pageOf(request)
    if ('problem' in paging) return badRequest(reply, paging.problem)
    const result = await pageUsers(db, paging.page)
    linkNext(reply, '/api/users', paging.page, result)
    return result.items.map(toUserJson)
  })
}
