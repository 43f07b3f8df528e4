// drizzle-kit configuration, used only at development time to generate SQL migrations from the schema:
//   cd apps/reference-api && npx drizzle-kit generate
// The generated ./drizzle folder (SQL + meta journal) is committed; the app applies it at start-up with
// drizzle-orm's migrators and never needs drizzle-kit at runtime.
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
  strict: true,
  verbose: true,
})
