import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'

/** Name of the lock file inside a PGlite data folder; holds the owning process id. */
export const LOCK_FILE_NAME = '.gatehouse.lock'

/** Lock files this process holds, so a second open from the same process is refused too. */
const held = new Set<string>()

/** A held lock on a data folder; `release()` is idempotent. */
export interface DataDirLock {
  release(): Promise<void>
}

/**
 * Takes the lock on a PGlite data folder, or throws if another live process (or this one) holds it.
 *
 * Why: PGlite runs PostgreSQL in single-user mode and takes no lock of its own, so two servers started on
 * the same `DATA_DIR` would both open the files and corrupt them. A lock file left by a process that is no
 * longer running (crash, SIGKILL) is stale and taken over.
 *
 * Does NOT protect against other programs that ignore the lock file, or against the same folder reached
 * through two different paths on a network file system.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const path = join(dir, LOCK_FILE_NAME)
  if (held.has(path)) throw lockedError(dir, process.pid)
  // Two attempts: the second one after removing a stale lock file.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600)
      try {
        await handle.writeFile(`${process.pid}\n`)
      } finally {
        await handle.close()
      }
      held.add(path)
      let released = false
      return {
        async release() {
          if (released) return
          released = true
          held.delete(path)
          await rm(path, { force: true })
        },
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const owner = Number.parseInt((await readFile(path, 'utf8').catch(() => '')).trim(), 10)
    // Our own pid in a file we do not hold is a leftover from an earlier process that had the same pid
    // (common in containers, where the server is often pid 1).
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw lockedError(dir, owner)
    }
    await rm(path, { force: true })
  }
  throw lockedError(dir, undefined)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function lockedError(dir: string, pid: number | undefined): Error {
  const by =
    pid === undefined
      ? 'another process'
      : pid === process.pid
        ? `this process (${pid}), which has not closed it`
        : `process ${pid}`
  return new Error(
    `the database folder ${dir} is in use by ${by}; stop it or set DATA_DIR to another folder ` +
      '(two servers on one PGlite folder would corrupt it)',
  )
}
