import { chmod, lstat, mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'

/** Mode of the data folder and every folder in it: owner only. */
export const PRIVATE_DIR_MODE = 0o700
/** Mode of every file in the data folder: owner read and write only. */
export const PRIVATE_FILE_MODE = 0o600

/**
 * Creates `dir` (and missing parents, with the default mode) and makes `dir` itself 0700, whatever the
 * umask and whatever mode an existing folder had. Done before anything is written in it, so no file in it
 * is ever reachable by another user, even for the moment before {@link makePrivate} tightens it.
 */
export async function createPrivateFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  await chmod(dir, PRIVATE_DIR_MODE)
}

/**
 * Sets `path` and every folder under it to 0700, every file under it to 0600.
 *
 * Why: PGlite's initdb writes its files 0666 whatever the process umask (it sets the modes itself), its
 * folders 0755 under the usual umask, and a data folder from an earlier version may hold such files. Symbolic links are neither
 * followed nor changed, so the pass never reaches outside `path`.
 */
export async function makePrivate(path: string): Promise<void> {
  try {
    const stats = await lstat(path)
    if (stats.isSymbolicLink()) return
    const wanted = stats.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE
    if ((stats.mode & 0o777) !== wanted) await chmod(path, wanted)
    if (!stats.isDirectory()) return
    for (const entry of await readdir(path)) await makePrivate(join(path, entry))
  } catch (err) {
    // A file PostgreSQL removed while we walked (a temporary file, an old WAL segment) needs no mode.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}
