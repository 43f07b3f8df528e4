/** Paging of list queries; both members optional. */
export interface Page {
  /** Most rows returned: an integer 1..{@link MAX_PAGE_SIZE}. Default {@link DEFAULT_PAGE_SIZE}. */
  limit?: number | undefined
  /** Rows skipped (in id order): a non-negative integer. Default 0. */
  offset?: number | undefined
}

/** Rows per page when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 50
/** Largest `limit` honoured; larger values are clamped, so one request cannot read a whole table. */
export const MAX_PAGE_SIZE = 100

/**
 * A page with defaults applied: `limit` clamped to 1..MAX_PAGE_SIZE, `offset` to 0 or more; values that
 * are not integers (NaN, 1.5, undefined) fall back to the defaults. Routes that want 400 for a bad query
 * string check it themselves; this only guarantees the SQL gets sane numbers.
 */
export function normalizePage(page: Page = {}): { limit: number; offset: number } {
  const limit = Number.isSafeInteger(page.limit) ? (page.limit as number) : DEFAULT_PAGE_SIZE
  const offset = Number.isSafeInteger(page.offset) ? (page.offset as number) : 0
  return { limit: Math.min(Math.max(limit, 1), MAX_PAGE_SIZE), offset: Math.max(offset, 0) }
}
