/**
 * One packaging test at a time on the library's dist/, across Vitest's workers: build.test.ts adds a stale
 * output to dist/ and rebuilds, and tarball.test.ts would list that output if it packed in the meantime.
 *
 * The lock is a file in the system's temporary folder, named after this checkout, holding the process id
 * of its owner; a lock whose owner is no longer running (a killed run) is taken over.
 */
import { createHash } from 'node:crypto'
import { open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Bound of one `npm run build`, which holds the lock in build.test.ts: a full compile of every project
 * takes 15 s on a quiet 2-core machine and over a minute on a loaded one.
 */
export const BUILD_TIMEOUT = 240_000

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const LOCK = join(
  tmpdir(),
  `gatehouse-dist-${createHash('sha256').update(ROOT).digest('hex').slice(0, 16)}.lock`,
)

/** Runs `step` holding the lock; waits for it at most `timeoutMs`. */
export async function withDistLock<T>(timeoutMs: number, step: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (!(await tryLock())) {
    if (Date.now() > deadline) throw new Error(`dist/ stayed locked for ${timeoutMs} ms (${LOCK})`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  try {
    return await step()
  } finally {
    await rm(LOCK, { force: true })
  }
}

async function tryLock(): Promise<boolean> {
  try {
    const handle = await open(LOCK, 'wx')
    try {
      await handle.writeFile(`${process.pid}\n`)
    } finally {
      await handle.close()
    }
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const owner = Number.parseInt((await readFile(LOCK, 'utf8').catch(() => '')).trim(), 10)
  // An empty file is a lock being written right now; a dead owner's lock is left over.
  if (Number.isSafeInteger(owner) && owner > 0 && !isRunning(owner)) await rm(LOCK, { force: true })
  return false
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
