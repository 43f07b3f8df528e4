/**
 * Users (seed 004): `GET /api/users/me` answers the caller's row, which the principal hook created on first
 * sight; `GET /api/users` lists every user, for the `admin` role only (read from the `roles` claim).
 */
import type { FastifyInstance } from 'fastify'
import { type Database, listUsers, toUserJson } from '../db/index.js'
import { badRequest } from '../errors.js'
import { userOf } from '../principal.js'
import { pageOf } from './paging.js'

export function userRoutes(app: FastifyInstance, db: Database): void {
  app.get('/api/users/me', async (request) => toUserJson(userOf(request)))

  app.get('/api/users', { config: { auth: { roles: 'admin' } } }, async (request, reply) => {
    const paging = pageOf(request)
    if ('problem' in paging) return badRequest(reply, paging.problem)
    return (await listUsers(db, paging.page)).map(toUserJson)
  })
}
