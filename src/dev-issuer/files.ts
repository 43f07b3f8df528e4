/** Reading and writing the dev issuer's JSON files. Writes are atomic (temp file + rename), mode 0600. */
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/** The parsed JSON of `path`, or `undefined` when the file does not exist. Throws with the path otherwise. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new Error(`cannot read ${path}: ${(cause as Error).message}`, { cause })
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new Error(
      `${path} is not valid JSON (${(cause as Error).message}); fix it or delete it to regenerate`,
      {
        cause,
      },
    )
  }
}

/**
 * Write `value` as JSON, readable by the owner only: these files hold private keys and client secrets.
 * A reader never sees a half-written file, because the rename is atomic on one file system.
 */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 })
  // The mode given to writeFile is filtered by the umask; chmod makes 0600 exact.
  await chmod(temp, 0o600)
  await rename(temp, path)
}
