import { sql } from 'drizzle-orm'
import { check, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core'

/**
 * Longest message text accepted, in Unicode code points (what PostgreSQL's `char_length` counts).
 * The app checks it first to answer 400; the `messages_text_length` CHECK is the last line of defence.
 */
export const MESSAGE_TEXT_MAX_LENGTH = 2000

/**
 * One row per token subject seen by `GET /api/users/me` (the Auth0 DRF guide's get-or-create).
 *
 * Property names are the column names (`created_at`), so a record, its SQL and its API JSON use one
 * spelling. `sub` is unique: that constraint is what makes get-or-create race-free.
 */
export const users = pgTable('users', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  sub: text('sub').notNull().unique('users_sub_unique'),
  /** `sub` with every `|` replaced by `.` (Auth0's Django API sample, `jwt_get_username_from_payload_handler`). */
  username: text('username').notNull(),
  created_at: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
})

/**
 * Messages of `/api/messages`. `owner` is the `sub` of the token that created the message; it is not a
 * foreign key to `users`, because a client may post before it ever calls `/api/users/me`.
 */
export const messages = pgTable(
  'messages',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    text: text('text').notNull(),
    owner: text('owner').notNull(),
    created_at: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updated_at: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    check(
      'messages_text_length',
      sql`char_length(${table.text}) between 1 and ${sql.raw(String(MESSAGE_TEXT_MAX_LENGTH))}`,
    ),
  ],
)

/** A row of `users`. */
export type User = typeof users.$inferSelect
/** A row of `messages`. */
export type Message = typeof messages.$inferSelect
