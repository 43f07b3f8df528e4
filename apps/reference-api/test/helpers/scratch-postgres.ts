import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** A throw-away database on the server of `DATABASE_URL`, so runs never see each other's rows. */
export interface ScratchDatabase {
  /** Connection URL of the new, empty database (same user and password as `DATABASE_URL`). */
  url: string
  /** Drops the database, disconnecting whoever is still connected. */
  drop(): Promise<void>
}

/**
 * Creates an empty database next to the one `baseUrl` names. The role needs CREATEDB, which
 * `.ci/postgres.sh` grants to `gatehouse`.
 */
export async function createScratchDatabase(baseUrl: string): Promise<ScratchDatabase> {
  const name = `gatehouse_t_${process.pid}_${randomBytes(4).toString('hex')}`
  await admin(baseUrl, `create database ${name}`).catch((err: Error) => {
    throw new Error(
      `cannot create a scratch database (does the DATABASE_URL role have CREATEDB?): ${err.message}`,
    )
  })
  const url = new URL(baseUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: () => admin(baseUrl, `drop database if exists ${name} with (force)`),
  }
}

async function admin(baseUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5000 })
  client.on('error', () => {})
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}
