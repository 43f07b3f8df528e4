// Run by db.test.ts with the app compiled into a temporary folder (see built-app.ts), from another working
// folder: node <build>/db-child.mjs <mode> <dataDir>
//   write: opens the PGlite folder, stores a message, prints it as JSON, then SIGKILLs itself (no close)
//   read:  opens the folder, prints the messages as JSON, closes
import { createMessage, listMessages, MIGRATIONS_FOLDER, openDatabase, toMessageJson } from './dist/db/index.js'

const [mode, dataDir] = process.argv.slice(2)
const db = await openDatabase({ dataDir })
if (mode === 'write') {
  const message = await createMessage(db, { text: 'written before SIGKILL', owner: 'auth0|child' })
  process.stdout.write(`${JSON.stringify({ migrations: MIGRATIONS_FOLDER, message: toMessageJson(message) })}\n`, () =>
    process.kill(process.pid, 'SIGKILL'),
  )
} else {
  const messages = (await listMessages(db)).map(toMessageJson)
  await db.close()
  process.stdout.write(`${JSON.stringify({ messages })}\n`)
}
