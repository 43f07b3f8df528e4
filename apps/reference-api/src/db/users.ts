import { asc, eq, gt } from 'drizzle-orm'
import type { Database } from './database.js'
import { normalizePage, type Page, type PageResult, toPageResult } from './page.js'
import { type User, users } from './schema.js'
import { assertSub, SUB_MAX_LENGTH } from './validation.js'

export type { User }
export { SUB_MAX_LENGTH }

/** A user as the API returns it (`GET /api/users/me`, `GET /api/users`). */
export interface UserJson {
  id: number
  sub: string
  username: string
  /** ISO 8601, UTC, millisecond precision. */
  created_at: string
}

/**
 * The username for a token subject: `sub` with every `|` replaced by `.`, as Auth0's Django API sample does
 * (`payload.get('sub').replace('|', '.')`), e.g. `auth0|123` → `auth0.123`.
 */
export function usernameFromSub(sub: string): string {
  return sub.replaceAll('|', '.')
}

/**
 * The user row for `sub`, created on first sight (the Auth0 DRF guide's `get_or_create`).
 *
 * Race-free without a transaction: a read, then `INSERT ... ON CONFLICT (sub) DO NOTHING RETURNING`, then a
 * read again if another request inserted first. The unique constraint on `sub` decides the winner, so any
 * number of concurrent first requests create exactly one row. The common case (a known user) is one read,
 * with no write.
 *
 * Throws `DataInputError` (`field: 'sub'`) if `sub` is not a non-empty string of at most
 * {@link SUB_MAX_LENGTH} characters without NUL. Does NOT check that `sub` came from a verified token.
 */
export async function getOrCreateUser(db: Database, sub: string): Promise<User> {
  assertSub(sub)
  const existing = await findUser(db, sub)
  if (existing) return existing
  const [inserted] = await db.orm
    .insert(users)
    .values({ sub, username: usernameFromSub(sub) })
    .onConflictDoNothing({ target: users.sub })
    .returning()
  if (inserted) return inserted
  // Another request inserted it between our read and our insert; ON CONFLICT waited for it to commit.
  const winner = await findUser(db, sub)
  if (!winner) throw new Error('the user row for this sub was inserted concurrently but cannot be read')
  return winner
}

/** All users in id order, one page at a time (see {@link normalizePage}). */
export async function listUsers(db: Database, page?: Page): Promise<User[]> {
  return (await pageUsers(db, page)).items
}

/** {@link listUsers}, and whether more users follow the page (for a `next` link). */
export async function pageUsers(db: Database, page?: Page): Promise<PageResult<User>> {
  const { limit, offset, after } = normalizePage(page)
  const rows = await db.orm
    .select()
    .from(users)
    .where(after === undefined ? undefined : gt(users.id, after))
    .orderBy(asc(users.id))
    .limit(limit + 1)
    .offset(offset)
  return toPageResult(rows, limit)
}

/** The API shape of a user row, with an ISO timestamp. */
export function toUserJson(user: User): UserJson {
  return { id: user.id, sub: user.sub, username: user.username, created_at: user.created_at.toISOString() }
}

async function findUser(db: Database, sub: string): Promise<User | undefined> {
  const [row] = await db.orm.select().from(users).where(eq(users.sub, sub)).limit(1)
  return row
}
