import { readFileSync } from 'node:fs'
import { chmod, cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { asc, count, eq, sql } from 'drizzle-orm'
import type { PgliteDatabase } from 'drizzle-orm/pglite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createMessage,
  DATABASE_URL_FORM,
  type Database,
  DataInputError,
  deleteMessage,
  deleteOwnMessage,
  getMessage,
  getOrCreateUser,
  listMessages,
  listUsers,
  MAX_PAGE_SIZE,
  MESSAGE_TEXT_MAX_LENGTH,
  type Message,
  type MessageJson,
  MIGRATIONS_FOLDER,
  openDatabase,
  pageMessages,
  pageUsers,
  parseMessageId,
  toMessageJson,
  toUserJson,
  type User,
  updateMessage,
  updateOwnMessage,
  usernameFromSub,
} from '../src/db/index.js'
import { MIGRATIONS_SCHEMA, MIGRATIONS_TABLE, migratePglite } from '../src/db/migrate.js'
import { messages, users } from '../src/db/schema.js'
import { type BuiltApp, copyBuiltApp } from './helpers/built-app.js'
import { modesUnder } from './helpers/modes.js'
import { createScratchDatabase, type ScratchDatabase } from './helpers/scratch-postgres.js'
import { rows } from './helpers/sql.js'
import { timeoutFor } from './helpers/timeouts.js'

const DATABASE_URL = process.env.DATABASE_URL || undefined
// With GATEHOUSE_REQUIRE_POSTGRES=1 (for CI) a missing server fails the run instead of skipping quietly.
if (!DATABASE_URL && process.env.GATEHOUSE_REQUIRE_POSTGRES === '1') {
  throw new Error(
    'GATEHOUSE_REQUIRE_POSTGRES=1 but DATABASE_URL is not set: run `eval "$(.ci/postgres.sh)"` first',
  )
}
const POSTGRES_BLOCK = DATABASE_URL
  ? 'PostgreSQL server (DATABASE_URL)'
  : 'PostgreSQL server — skipped: DATABASE_URL is not set (eval "$(.ci/postgres.sh)" to run it)'
const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as {
  entries: { tag: string }[]
}

/** How one backend is opened for the shared suite, and how its migrations are applied a second time. */
interface Backend {
  kind: Database['kind']
  open(): Promise<Database>
  /** Applies the migrations again, twice, to the database `open()` returned (the idempotence check). */
  migrateAgain(db: Database): Promise<void>
}

async function appliedMigrations(db: Database): Promise<number> {
  const [row] = await rows<{ n: number | string }>(
    db,
    sql`select count(*) as n from ${sql.identifier(MIGRATIONS_SCHEMA)}.${sql.identifier(MIGRATIONS_TABLE)}`,
  )
  return Number(row?.n)
}

async function tableNames(db: Database): Promise<string[]> {
  const found = await rows<{ table_name: string }>(
    db,
    sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
  )
  return found.map((row) => row.table_name)
}

async function rowCount(db: Database, table: typeof users | typeof messages, where?: ReturnType<typeof eq>) {
  const [row] = await db.orm.select({ n: count() }).from(table).where(where)
  return row?.n
}

/** The same behaviour on PGlite and on a PostgreSQL server. */
function databaseSuite(backend: () => Backend) {
  let db: Database

  beforeAll(async () => {
    db = await backend().open()
  }, timeoutFor('pgliteOpen'))
  afterAll(async () => {
    await db?.close()
  })

  it('applies every migration of the journal to an empty database', async () => {
    expect(db.kind).toBe(backend().kind)
    expect(await tableNames(db)).toEqual(['messages', 'users'])
    expect(await appliedMigrations(db)).toBe(journal.entries.length)
    await db.ping()
  })

  it('applies the migrations again without error or change (idempotent)', async () => {
    await createMessage(db, { text: 'kept across migrations', owner: 'auth0|migrate' })
    await backend().migrateAgain(db)
    expect(await appliedMigrations(db)).toBe(journal.entries.length)
    expect(await rowCount(db, messages, eq(messages.owner, 'auth0|migrate'))).toBe(1)
  })

  it('derives the username from sub by replacing every | with . (Auth0’s Django API sample)', async () => {
    const user = await getOrCreateUser(db, 'auth0|123')
    expect(user.username).toBe('auth0.123')
    expect(user.sub).toBe('auth0|123')
    expect((await getOrCreateUser(db, 'samlp|corp|jane')).username).toBe('samlp.corp.jane')
    expect((await getOrCreateUser(db, 'm2m-client@clients')).username).toBe('m2m-client@clients')
  })

  it('get-or-create returns the same row for a known sub', async () => {
    const first = await getOrCreateUser(db, 'google-oauth2|42')
    const second = await getOrCreateUser(db, 'google-oauth2|42')
    expect(second).toEqual(first)
    expect(toUserJson(first)).toEqual({
      id: first.id,
      sub: 'google-oauth2|42',
      username: 'google-oauth2.42',
      created_at: first.created_at.toISOString(),
    })
    expect(Date.now() - Date.parse(toUserJson(first).created_at)).toBeLessThan(60_000)
  })

  it('creates exactly one row for 50 concurrent first requests of one sub', async () => {
    const sub = `auth0|race-${Date.now()}`
    const results = await Promise.all(Array.from({ length: 50 }, () => getOrCreateUser(db, sub)))
    expect(new Set(results.map((user) => user.id)).size).toBe(1)
    expect(await rowCount(db, users, eq(users.sub, sub))).toBe(1)
  })

  it('refuses a sub it cannot store, without writing', async () => {
    const before = await rowCount(db, users)
    for (const sub of ['', 'a\u0000b', 'x'.repeat(1025)]) {
      await expect(getOrCreateUser(db, sub)).rejects.toBeInstanceOf(DataInputError)
    }
    expect(await rowCount(db, users)).toBe(before)
  })

  it('lists users in id order with paging', async () => {
    const all = await listUsers(db, { limit: MAX_PAGE_SIZE })
    expect(all.length).toBeGreaterThanOrEqual(5)
    expect(all.map((user) => user.id)).toEqual([...all.map((user) => user.id)].sort((a, b) => a - b))
    expect(await listUsers(db, { limit: 2, offset: 1 })).toEqual(all.slice(1, 3))
  })

  it('creates, reads, lists, updates and deletes a message', async () => {
    const created = await createMessage(db, { text: 'hello', owner: 'auth0|alice' })
    expect(created).toMatchObject({ text: 'hello', owner: 'auth0|alice' })
    const json = toMessageJson(created)
    expect(Object.keys(json).sort()).toEqual(['created_at', 'id', 'owner', 'text'])
    expect(json.created_at).toBe(created.created_at.toISOString())
    expect(json.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)

    expect(await getMessage(db, created.id)).toEqual(created)
    expect((await listMessages(db, { limit: MAX_PAGE_SIZE })).map((m) => m.id)).toContain(created.id)

    const updated = await updateMessage(db, created.id, 'hello again')
    expect(updated).toMatchObject({ id: created.id, text: 'hello again', owner: 'auth0|alice' })
    expect(updated?.created_at).toEqual(created.created_at)
    expect(updated!.updated_at.getTime()).toBeGreaterThanOrEqual(created.updated_at.getTime())
    expect((await getMessage(db, created.id))?.text).toBe('hello again')

    expect(await deleteMessage(db, created.id)).toBe(true)
    expect(await getMessage(db, created.id)).toBeUndefined()
    expect(await deleteMessage(db, created.id)).toBe(false)
  })

  it('answers "missing" for update, delete and get of an id that has no row or cannot be an id', async () => {
    const missing = 2_000_000_000
    expect(await getMessage(db, missing)).toBeUndefined()
    expect(await updateMessage(db, missing, 'x')).toBeUndefined()
    expect(await deleteMessage(db, missing)).toBe(false)
    expect(await updateOwnMessage(db, missing, 'auth0|alice', 'x')).toEqual({
      ok: false,
      reason: 'not_found',
    })
    expect(await deleteOwnMessage(db, missing, 'auth0|alice')).toEqual({ ok: false, reason: 'not_found' })
    // Beyond PostgreSQL's integer range, or not integers: PostgreSQL would throw "out of range" if asked.
    for (const id of [0, -1, 1.5, 2 ** 31, Number.NaN, Number.MAX_SAFE_INTEGER + 2]) {
      expect(await getMessage(db, id)).toBeUndefined()
      expect(await updateMessage(db, id, 'x')).toBeUndefined()
      expect(await deleteMessage(db, id)).toBe(false)
    }
  })

  it('lets only the owner update or delete through the owner-checked writes', async () => {
    const message = await createMessage(db, { text: 'mine', owner: 'auth0|owner' })
    expect(await updateOwnMessage(db, message.id, 'auth0|other', 'stolen')).toEqual({
      ok: false,
      reason: 'forbidden',
    })
    expect(await deleteOwnMessage(db, message.id, 'auth0|other')).toEqual({ ok: false, reason: 'forbidden' })
    expect((await getMessage(db, message.id))?.text).toBe('mine')

    const updated = await updateOwnMessage(db, message.id, 'auth0|owner', 'still mine')
    expect(updated.ok && updated.value.text).toBe('still mine')
    expect(await deleteOwnMessage(db, message.id, 'auth0|owner')).toEqual({ ok: true, value: undefined })
    expect(await getMessage(db, message.id)).toBeUndefined()
  })

  it('persists 100 concurrent creates with distinct ids', async () => {
    const owner = `auth0|burst-${Date.now()}`
    const created = await Promise.all(
      Array.from({ length: 100 }, (_, i) => createMessage(db, { text: `message ${i}`, owner })),
    )
    expect(new Set(created.map((m) => m.id)).size).toBe(100)
    expect(await rowCount(db, messages, eq(messages.owner, owner))).toBe(100)
    const stored = await db.orm.select().from(messages).where(eq(messages.owner, owner))
    expect(stored.map((m) => m.text).sort()).toEqual(created.map((m) => m.text).sort())
  })

  it('accepts text up to the limit in code points and refuses what PostgreSQL cannot store', async () => {
    const owner = 'auth0|limits'
    // 2000 emoji are 4000 UTF-16 units but 2000 characters for char_length().
    for (const text of ['x'.repeat(MESSAGE_TEXT_MAX_LENGTH), '😀'.repeat(MESSAGE_TEXT_MAX_LENGTH), 'é']) {
      expect((await createMessage(db, { text, owner })).text).toBe(text)
    }
    const refused: unknown[] = [
      '',
      'x'.repeat(MESSAGE_TEXT_MAX_LENGTH + 1),
      'a\u0000b',
      'lone \ud800',
      42,
      null,
    ]
    for (const text of refused) {
      await expect(createMessage(db, { text: text as string, owner })).rejects.toBeInstanceOf(DataInputError)
    }
    const target = await createMessage(db, { text: 'unchanged', owner })
    await expect(updateMessage(db, target.id, '')).rejects.toThrow(/"text" must not be empty/)
    expect((await getMessage(db, target.id))?.text).toBe('unchanged')
  })

  it('has a CHECK constraint that refuses over-long text written around the app', async () => {
    await expect(
      db.orm.insert(messages).values({ text: 'y'.repeat(MESSAGE_TEXT_MAX_LENGTH + 1), owner: 'auth0|raw' }),
    ).rejects.toThrow()
    expect(await rowCount(db, messages, eq(messages.owner, 'auth0|raw'))).toBe(0)
  })

  it('pages messages in id order and clamps the page size', async () => {
    const first = await listMessages(db, { limit: 3 })
    const next = await listMessages(db, { limit: 3, offset: 3 })
    expect(first).toHaveLength(3)
    expect(next[0]!.id).toBeGreaterThan(first[2]!.id)
    expect(await listMessages(db, { limit: 100_000 })).toHaveLength(MAX_PAGE_SIZE)
    expect(await listMessages(db, { limit: 0, offset: -5 })).toEqual(first.slice(0, 1))
  })

  it('pages by id cursor and tells whether more rows follow', async () => {
    const all = await db.orm.select().from(messages).orderBy(asc(messages.id))
    expect(all.length).toBeGreaterThan(4)
    const last = all.at(-1)!.id
    const third = all[2]!.id
    expect(await pageMessages(db, { after: third, limit: 2 })).toEqual({
      items: all.slice(3, 5),
      hasMore: all.length > 5,
    })
    expect(await pageMessages(db, { after: all.at(-3)!.id, limit: 2 })).toEqual({
      items: all.slice(-2),
      hasMore: false,
    })
    expect(await pageMessages(db, { after: last })).toEqual({ items: [], hasMore: false })
    const users = await pageUsers(db, { limit: 1 })
    expect(users.items).toHaveLength(1)
    expect(
      (await pageUsers(db, { after: users.items[0]!.id, limit: MAX_PAGE_SIZE })).items,
    ).not.toContainEqual(users.items[0])
  })

  it('pings until closed, and closes idempotently', async () => {
    await db.ping()
    await db.close()
    await db.close()
    await expect(db.ping()).rejects.toThrow()
  })
}

describe('PGlite (embedded, the default)', () => {
  databaseSuite(() => ({
    kind: 'pglite',
    // An empty DATABASE_URL (as `DATABASE_URL= npm start` gives) means "unset": PGlite.
    open: () => openDatabase({ databaseUrl: '', dataDir: 'memory://' }),
    async migrateAgain(db) {
      await migratePglite(db.orm as PgliteDatabase)
      await migratePglite(db.orm as PgliteDatabase)
    },
  }))
})

describe.skipIf(!DATABASE_URL)(POSTGRES_BLOCK, () => {
  let scratch: ScratchDatabase
  beforeAll(async () => {
    scratch = await createScratchDatabase(DATABASE_URL!)
  })
  afterAll(async () => {
    await scratch?.drop()
  })

  describe('the shared suite', () => {
    databaseSuite(() => ({
      kind: 'postgres',
      open: () => openDatabase({ databaseUrl: scratch.url }),
      // Two processes starting at once: both migrate, serialised by the advisory lock.
      async migrateAgain() {
        const again = await Promise.all([
          openDatabase({ databaseUrl: scratch.url }),
          openDatabase({ databaseUrl: scratch.url }),
        ])
        await Promise.all(again.map((db) => db.close()))
      },
    }))
  })

  it('migrates an empty database once when several processes start at the same time', async () => {
    const fresh = await createScratchDatabase(DATABASE_URL!)
    try {
      const dbs = await Promise.all(Array.from({ length: 4 }, () => openDatabase({ databaseUrl: fresh.url })))
      expect(await appliedMigrations(dbs[0]!)).toBe(journal.entries.length)
      await Promise.all(dbs.map((db) => db.close()))
    } finally {
      await fresh.drop()
    }
  })

  it('names host and database but never the password when the login is refused', async () => {
    const url = new URL(scratch.url)
    url.password = 'wrong-Secret-123'
    const error = await openDatabase({ databaseUrl: url.toString() }).catch((err: Error) => err)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toContain(`${url.hostname}:${url.port}${url.pathname}`)
    expect((error as Error).message).toMatch(/password authentication failed/)
    expect((error as Error).message).not.toContain('wrong-Secret-123')
  })
})

describe('DATABASE_URL errors', () => {
  it.each([
    ['not a URL', 'secretpw', /not a URL/],
    ['another scheme', 'mysql://app:secretpw@db:3306/app', /scheme is "mysql:"/],
    ['no host', 'postgres:///app?user=app&password=secretpw', /no host/],
    ['no database', 'postgres://app:secretpw@db:5432', /names no database/],
    ['an unencoded # in the password', 'postgres://app:secret#pw@db/app', /percent-encode/],
  ])('refuses %s, naming DATABASE_URL and the expected form without the password', async (_, url, reason) => {
    const error = await openDatabase({ databaseUrl: url }).catch((err: Error) => err)
    expect(error).toBeInstanceOf(Error)
    const message = (error as Error).message
    expect(message).toMatch(/^DATABASE_URL /)
    expect(message).toMatch(reason)
    expect(message).toContain(DATABASE_URL_FORM)
    expect(message).not.toMatch(/secret/)
    expect((error as Error).cause).toBeUndefined()
  })

  it('reports an unreachable server quickly, without the password', async () => {
    const started = Date.now()
    const error = await openDatabase({
      databaseUrl: 'postgres://app:secretpw@127.0.0.1:1/app',
      connectTimeoutMs: 2000,
    }).catch((err: Error) => err)
    expect((error as Error).message).toMatch(/^could not open the PostgreSQL database 127\.0\.0\.1:1\/app/)
    expect((error as Error).message).not.toContain('secretpw')
    expect(Date.now() - started).toBeLessThan(5000)
  })
})

// Each test opens a folder of its own (a copy of an earlier test's when it needs an initialised one), so a
// failure (or a timeout) in one never leaves a folder locked or half-written for the next; every database
// a test opens is closed in its `finally`.
describe('PGlite data folder, from the sources and from the built output', () => {
  let dir: string
  let app: BuiltApp
  let folders = 0
  const freshDataDir = () => join(dir, String(++folders), 'nested', 'data')
  /** The first test's folder once that test has passed: initialised, migrated, closed and private. */
  let initialised: string | undefined
  /**
   * A folder of its own for a test that needs an initialised database but not a first open: a copy of
   * `initialised` (a first open runs PGlite's initdb, the slow part), or a new folder when there is none.
   */
  async function initialisedDataDir(): Promise<string> {
    const dataDir = freshDataDir()
    if (initialised !== undefined) await cp(initialised, dataDir, { recursive: true })
    return dataDir
  }
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-refapi-db-'))
    app = await copyBuiltApp()
  }, timeoutFor())
  afterAll(async () => {
    await app?.remove()
    await rm(dir, { recursive: true, force: true })
  })

  it(
    'creates a missing folder private (0700, files 0600), refuses a second open, and tightens an old folder',
    async () => {
      const dataDir = freshDataDir()
      const db = await openDatabase({ dataDir })
      try {
        expect(db.kind).toBe('pglite')
        expect(db.location).toBe(dataDir)
        // PGlite's initdb writes about a thousand files (0666 of its own accord): all of them were walked.
        const opened = await modesUnder(dataDir)
        expect(opened.files).toBeGreaterThan(500)
        expect(opened.loose).toEqual([])
        await expect(openDatabase({ dataDir })).rejects.toThrow(/in use by this process/)
      } finally {
        await db.close()
      }
      expect((await modesUnder(dataDir)).loose).toEqual([])
      // What an earlier version left: the folder 0755, PGlite's files 0666.
      await chmod(dataDir, 0o755)
      await chmod(join(dataDir, 'PG_VERSION'), 0o666)
      await chmod(join(dataDir, 'base'), 0o755)
      const reopened = await openDatabase({ dataDir })
      try {
        expect((await modesUnder(dataDir)).loose).toEqual([])
      } finally {
        await reopened.close()
      }
      initialised = dataDir
    },
    timeoutFor('pgliteOpen', 'pgliteReopen'),
  )

  it(
    'keeps data across close/reopen and SIGKILL; the tsc build finds its migrations from another folder',
    async () => {
      const dataDir = await initialisedDataDir()
      const db = await openDatabase({ dataDir })
      let user: User
      let persisted: Message
      try {
        user = await getOrCreateUser(db, 'auth0|persist')
        persisted = await createMessage(db, { text: 'survives a restart', owner: 'auth0|persist' })
      } finally {
        await db.close()
      }
      // A second process (the built app, started elsewhere) reopens the closed folder, writes, and is killed
      // without closing: PGlite must have made the committed row durable, and the stale lock must not block.
      const written = await app.node('db-child.mjs', ['write', dataDir], dir)
      expect(written.signal, written.stderr).toBe('SIGKILL')
      const child = JSON.parse(written.stdout) as { migrations: string; message: MessageJson }
      expect(child.migrations).toBe(join(app.dir, 'drizzle/'))
      expect(child.message.owner).toBe('auth0|child')

      const reopened = await openDatabase({ dataDir })
      try {
        expect(await getOrCreateUser(reopened, 'auth0|persist')).toEqual(user)
        expect(await getMessage(reopened, persisted.id)).toEqual(persisted)
        expect((await listMessages(reopened)).map(toMessageJson)).toEqual([
          toMessageJson(persisted),
          child.message,
        ])
        expect(await appliedMigrations(reopened)).toBe(journal.entries.length)
      } finally {
        await reopened.close()
      }
    },
    timeoutFor('pgliteOpen', 'pgliteReopen', 'pgliteReopen'),
  )
})

describe('pure helpers', () => {
  it('usernameFromSub replaces every |, not only the first', () => {
    expect(usernameFromSub('auth0|123')).toBe('auth0.123')
    expect(usernameFromSub('a|b|c')).toBe('a.b.c')
    expect(usernameFromSub('no-pipe')).toBe('no-pipe')
  })

  it('parseMessageId accepts only canonical decimal ids within PostgreSQL integer range', () => {
    expect(parseMessageId('1')).toBe(1)
    expect(parseMessageId('2147483647')).toBe(2_147_483_647)
    for (const raw of ['0', '-1', '01', '1.0', '1e3', ' 1', '2147483648', '99999999999', '', 'abc']) {
      expect(parseMessageId(raw)).toBeUndefined()
    }
  })
})
