/**
 * The gate's `principal` hook: the token's `sub` becomes a user row, created on first sight (the Auth0 DRF guide's
 * `User.objects.get_or_create(username=claims['sub'])`), available to handlers as `request.auth.principal`.
 *
 * It runs on every request that presents a valid, authorized token, as the Auth0 DRF guide's authentication
 * class does: one indexed read per request (plus one insert the first time a `sub` is seen). In exchange
 * every caller has a row, so `GET /api/users` lists everyone who has used the API. Public routes
 * (`access: 'public'`) and refused requests never reach it.
 */
import type { FastifyRequest } from 'fastify'
import { type AuthContext, GatehouseError } from 'gatehouse'
import { authOf } from 'gatehouse/fastify'
import { type Database, DataInputError, getOrCreateUser, type User } from './db/index.js'

/**
 * The principal hook for `db`. A token without a string `sub` (RFC 9068 §2.2 requires one), or with one
 * this API cannot store (over 1024 characters, NUL), is refused as 401 `invalid_token`: the API has no
 * way to name its caller.
 */
export function userResolver(db: Database) {
  return async (auth: AuthContext): Promise<User> => {
    const sub = auth.claims.sub
    if (typeof sub !== 'string')
      throw new GatehouseError('ERR_JWT_CLAIM_MISSING', 'Token lacks the "sub" claim')
    try {
      return await getOrCreateUser(db, sub)
    } catch (error) {
      if (error instanceof DataInputError) {
        throw new GatehouseError('ERR_JWT_CLAIM_INVALID', 'Token "sub" claim is not a usable user id', {
          cause: error,
        })
      }
      throw error
    }
  }
}

/** The verified request's user. Throws `ERR_NO_TOKEN` (401) on a route that let an anonymous request in. */
export function userOf(request: FastifyRequest): User {
  return authOf<User>(request).principal
}

/** The verified request's `sub` (the principal hook made sure it is a storable string). */
export function subOf(request: FastifyRequest): string {
  return userOf(request).sub
}
