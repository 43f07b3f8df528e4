// Run by db.test.ts with the app compiled into a temporary folder (see built-app.ts), from another working
// folder: `node <build>/db-child.mjs write <dataDir>` opens the PGlite folder, stores a message, prints it
// and the migrations folder it used as JSON, then SIGKILLs itself without closing the database.
import { createMessage, MIGRATIONS_FOLDER, openDatabase, toMessageJson } from './dist/db/index.js'

const [mode, dataDir] = process.argv.slice(2)
if (mode !== 'write') throw new Error(`unknown mode ${mode}`)
const db = await openDatabase({ dataDir })
const message = await createMessage(db, { text: 'written before SIGKILL', owner: 'auth0|child' })
const line = `${JSON.stringify({ migrations: MIGRATIONS_FOLDER, message: toMessageJson(message) })}\n`
process.stdout.write(line, () => process.kill(process.pid, 'SIGKILL'))
