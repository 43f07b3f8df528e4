/**
 * Paging of the list routes: `?limit=&offset=&after=` in, an RFC 8288 `Link: <…>; rel="next"` header out
 * on every page that has a successor. The body stays a bare array.
 *
 * Absent values take the data layer's defaults; a value that is not a plain non-negative integer (or is
 * repeated) is a 400, not a silent default, so a client learns of its mistake. A `limit` above the maximum
 * is clamped by the data layer (`normalizePage`). The `next` link pages by keyset (`after` = the last id
 * of this page), so following it sees every row once even while rows are added or deleted.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { MAX_MESSAGE_ID, MAX_PAGE_SIZE, normalizePage, type Page, type PageResult } from '../db/index.js'

/** The page a request asks for, or the reason it is malformed. */
export function pageOf(request: FastifyRequest): { page: Page } | { problem: string } {
  const query = (request.query ?? {}) as Record<string, unknown>
  const page: Page = {}
  for (const name of ['limit', 'offset'] as const) {
    const raw = query[name]
    if (raw === undefined) continue
    if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) {
      return { problem: `"${name}" must be a non-negative integer` }
    }
    page[name] = Number(raw)
  }
  if (page.limit === 0) return { problem: `"limit" must be from 1 to ${MAX_PAGE_SIZE}` }
  const after = query.after
  if (after !== undefined) {
    // Ids of both tables are PostgreSQL `integer` identities.
    if (typeof after !== 'string' || !/^\d{1,10}$/.test(after) || Number(after) > MAX_MESSAGE_ID) {
      return { problem: `"after" must be an id from 0 to ${MAX_MESSAGE_ID}` }
    }
    page.after = Number(after)
  }
  return { page }
}

/**
 * Sets `Link: <path?limit=…&after=…>; rel="next"` (RFC 8288 §3) when rows follow this page. The target is
 * a path-absolute reference, resolved against the request URL (RFC 3986 §5), so it holds behind a proxy
 * that keeps paths; it never echoes the request's own query string.
 */
export function linkNext(
  reply: FastifyReply,
  path: string,
  page: Page,
  result: PageResult<{ id: number }>,
): void {
  const last = result.items.at(-1)
  if (!result.hasMore || last === undefined) return
  const { limit } = normalizePage(page)
  reply.header('link', `<${path}?limit=${limit}&after=${last.id}>; rel="next"`)
}
