/**
 * `?limit=&offset=` of the list routes. Absent values take the data layer's defaults; a value that is not
 * a plain non-negative integer (or is repeated) is a 400, not a silent default, so a client learns of its
 * mistake. A `limit` above the maximum is clamped by the data layer (`normalizePage`).
 */
import type { FastifyRequest } from 'fastify'
import { MAX_PAGE_SIZE, type Page } from '../db/index.js'

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
  return { page }
}
