import type { Database } from '../db/index.js'

/** What the route modules need from the app. */
export interface RouteDeps {
  db: Database
}
