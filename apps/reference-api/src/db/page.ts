/** Paging of list queries, in id order; every member optional. */
export interface Page {
  /** Most rows returned: an integer 1..{@link MAX_PAGE_SIZE}. Default {@link DEFAULT_PAGE_SIZE}. */
  limit?: number | undefined
  /** Rows skipped (in id order, after `after` when both are given): a non-negative integer. Default 0. */
  offset?: number | undefined
  /**
   * Keyset cursor: only rows whose id is greater than this. Stable while rows are added or deleted, unlike
   * `offset`, so the API's `next` links use it. Default: none (from the first row).
   */
  after?: number | undefined
}

/** One page of rows, and whether any row follows it. */
export interface PageResult<T> {
  /** At most the page's `limit` rows, in id order. */
  items: T[]
  /** True when at least one more row comes after the last of `items`. */
  hasMore: boolean
}

/** Rows per page when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 50
/** Largest `limit` honoured; larger values are clamped, so one request cannot read a whole table. */
export const MAX_PAGE_SIZE = 100

/**
 * A page with defaults applied: `limit` clamped to 1..MAX_PAGE_SIZE, `offset` to 0 or more, `after` kept
 * only when it is a safe integer; values that are not integers (NaN, 1.5, undefined) fall back to the
 * defaults. Routes that want 400 for a bad query string check it themselves; this only guarantees the SQL
 * gets sane numbers.
 */
export function normalizePage(page: Page = {}): { limit: number; offset: number; after: number | undefined } {
  const limit = Number.isSafeInteger(page.limit) ? (page.limit as number) : DEFAULT_PAGE_SIZE
  const offset = Number.isSafeInteger(page.offset) ? (page.offset as number) : 0
  const after = Number.isSafeInteger(page.after) ? (page.after as number) : undefined
  return { limit: Math.min(Math.max(limit, 1), MAX_PAGE_SIZE), offset: Math.max(offset, 0), after }
}

/**
 * Splits the rows of a query made with `limit + 1` into the page and whether more follow: one row more
 * than the page holds tells, without a count, that a next page exists.
 */
export function toPageResult<T>(rows: T[], limit: number): PageResult<T> {
  return { items: rows.slice(0, limit), hasMore: rows.length > limit }
}
