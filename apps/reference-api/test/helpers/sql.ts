import type { SQL } from 'drizzle-orm'
import type { Database } from '../../src/db/index.js'

/**
 * Rows of a raw query. Both drivers' `execute` results carry `rows` (node-postgres `QueryResult`, PGlite
 * `Results`), but drizzle types them per driver, hence the cast.
 */
export async function rows<T>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.orm.execute(query)) as unknown as { rows: T[] }
  return result.rows
}
