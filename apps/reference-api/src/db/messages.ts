import { asc, eq, gt, sql } from 'drizzle-orm'
import type { Database } from './database.js'
import { normalizePage, type Page, type PageResult, toPageResult } from './page.js'
import { MESSAGE_TEXT_MAX_LENGTH, type Message, messages } from './schema.js'
import { assertSub, DataInputError, stringProblem } from './validation.js'

export type { Message }
export { MESSAGE_TEXT_MAX_LENGTH }

/** Largest message id: ids are PostgreSQL `integer` identities. */
export const MAX_MESSAGE_ID = 2_147_483_647

/** Input of {@link createMessage}. */
export interface NewMessage {
  /** 1..{@link MESSAGE_TEXT_MAX_LENGTH} characters. */
  text: string
  /** The `sub` of the token that posts it. */
  owner: string
}

/** A message as the API returns it; the shape of `POST /api/messages`'s 201 body. */
export interface MessageJson {
  id: number
  text: string
  owner: string
  /** ISO 8601, UTC, millisecond precision. */
  created_at: string
}

/** Outcome of a write that only the owner may make (`PATCH`/`DELETE /api/messages/:id`). */
export type OwnerWriteResult<T> =
  | { ok: true; value: T }
  /** `not_found` → 404; `forbidden` → 403 (the message exists and belongs to another `sub`). */
  | { ok: false; reason: 'not_found' | 'forbidden' }

/**
 * Why `text` cannot be a message text, or `undefined` if it can: not a string, empty, longer than
 * {@link MESSAGE_TEXT_MAX_LENGTH} code points, or holding NUL / lone surrogates (PostgreSQL cannot store
 * them). Routes call it on the parsed body to answer 400 with this reason; it never echoes the text.
 */
export function messageTextProblem(text: unknown): string | undefined {
  return stringProblem('text', text, MESSAGE_TEXT_MAX_LENGTH)
}

/**
 * The id in a `/api/messages/:id` path segment, or `undefined` if it is not a decimal integer
 * 1..{@link MAX_MESSAGE_ID} without sign, leading zero or spaces (routes answer 404 for it).
 */
export function parseMessageId(raw: string): number | undefined {
  if (!/^[1-9][0-9]{0,9}$/.test(raw)) return undefined
  const id = Number(raw)
  return id <= MAX_MESSAGE_ID ? id : undefined
}

/**
 * Stores a message and returns the row with its new id. Throws {@link DataInputError} (`field: 'text'`)
 * if {@link messageTextProblem} refuses the text, or (`field: 'sub'`) for an unstorable owner. Does NOT
 * check who may post: routes require the `write:messages` scope before calling it.
 */
export async function createMessage(db: Database, input: NewMessage): Promise<Message> {
  assertText(input.text)
  assertSub(input.owner)
  const [row] = await db.orm.insert(messages).values({ text: input.text, owner: input.owner }).returning()
  if (!row) throw new Error('INSERT ... RETURNING returned no row')
  return row
}

/** Messages in id order (oldest first), one page at a time (see {@link normalizePage}). */
export async function listMessages(db: Database, page?: Page): Promise<Message[]> {
  return (await pageMessages(db, page)).items
}

/** {@link listMessages}, and whether more messages follow the page (for a `next` link). */
export async function pageMessages(db: Database, page?: Page): Promise<PageResult<Message>> {
  const { limit, offset, after } = normalizePage(page)
  const rows = await db.orm
    .select()
    .from(messages)
    .where(after === undefined ? undefined : gt(messages.id, after))
    .orderBy(asc(messages.id))
    .limit(limit + 1)
    .offset(offset)
  return toPageResult(rows, limit)
}

/** The message with this id, or `undefined` if there is none (or `id` is not a valid id). */
export async function getMessage(db: Database, id: number): Promise<Message | undefined> {
  if (!isMessageId(id)) return undefined
  const [row] = await db.orm.select().from(messages).where(eq(messages.id, id)).limit(1)
  return row
}

/**
 * Replaces a message's text and bumps `updated_at`; returns the updated row, or `undefined` if there is no
 * such message. Throws {@link DataInputError} for a refused text. Does NOT check the owner: see
 * {@link updateOwnMessage}.
 */
export async function updateMessage(db: Database, id: number, text: string): Promise<Message | undefined> {
  assertText(text)
  if (!isMessageId(id)) return undefined
  const [row] = await db.orm
    .update(messages)
    .set({ text, updated_at: sql`now()` })
    .where(eq(messages.id, id))
    .returning()
  return row
}

/** Deletes a message; `true` if it existed, `false` if not. Does NOT check the owner: see {@link deleteOwnMessage}. */
export async function deleteMessage(db: Database, id: number): Promise<boolean> {
  if (!isMessageId(id)) return false
  const rows = await db.orm.delete(messages).where(eq(messages.id, id)).returning({ id: messages.id })
  return rows.length > 0
}

/**
 * `PATCH /api/messages/:id` in one call: replaces the text only if the message exists and `owner` owns it
 * (axioms' owner-or-read-only). The check and the write run in one transaction on the row locked with
 * `SELECT ... FOR UPDATE`, so a concurrent delete or update cannot slip between them.
 * Throws {@link DataInputError} for a refused text (before touching the database).
 */
export async function updateOwnMessage(
  db: Database,
  id: number,
  owner: string,
  text: string,
): Promise<OwnerWriteResult<Message>> {
  assertText(text)
  if (!isMessageId(id)) return { ok: false, reason: 'not_found' }
  return db.orm.transaction(async (tx): Promise<OwnerWriteResult<Message>> => {
    const [current] = await tx
      .select({ owner: messages.owner })
      .from(messages)
      .where(eq(messages.id, id))
      .for('update')
    if (!current) return { ok: false, reason: 'not_found' }
    if (current.owner !== owner) return { ok: false, reason: 'forbidden' }
    const [row] = await tx
      .update(messages)
      .set({ text, updated_at: sql`now()` })
      .where(eq(messages.id, id))
      .returning()
    return row ? { ok: true, value: row } : { ok: false, reason: 'not_found' }
  })
}

/**
 * `DELETE /api/messages/:id` in one call: deletes the message only if it exists and `owner` owns it, in one
 * transaction like {@link updateOwnMessage}.
 */
export async function deleteOwnMessage(
  db: Database,
  id: number,
  owner: string,
): Promise<OwnerWriteResult<undefined>> {
  if (!isMessageId(id)) return { ok: false, reason: 'not_found' }
  return db.orm.transaction(async (tx): Promise<OwnerWriteResult<undefined>> => {
    const [current] = await tx
      .select({ owner: messages.owner })
      .from(messages)
      .where(eq(messages.id, id))
      .for('update')
    if (!current) return { ok: false, reason: 'not_found' }
    if (current.owner !== owner) return { ok: false, reason: 'forbidden' }
    await tx.delete(messages).where(eq(messages.id, id))
    return { ok: true, value: undefined }
  })
}

/** The API shape of a message row: `{ id, text, owner, created_at }` with an ISO timestamp. */
export function toMessageJson(message: Message): MessageJson {
  return {
    id: message.id,
    text: message.text,
    owner: message.owner,
    created_at: message.created_at.toISOString(),
  }
}

// Ids outside int4 would make PostgreSQL throw "out of range"; such a row cannot exist, so answer "missing".
function isMessageId(id: number): boolean {
  return Number.isSafeInteger(id) && id >= 1 && id <= MAX_MESSAGE_ID
}

function assertText(text: unknown): void {
  const problem = messageTextProblem(text)
  if (problem) throw new DataInputError('text', problem)
}
