import { lstat, readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'

/** What {@link modesUnder} found: how many entries it looked at, and those that are not private. */
export interface ModeReport {
  folders: number
  files: number
  /** `relative/path 0644` for every folder that is not 0700 and every file that is not 0600. */
  loose: string[]
}

/** Walks `dir` (symbolic links not followed) and reports every entry whose mode is not owner-only. */
export async function modesUnder(dir: string): Promise<ModeReport> {
  const report: ModeReport = { folders: 0, files: 0, loose: [] }
  const walk = async (path: string): Promise<void> => {
    const stats = await lstat(path)
    const mode = stats.mode & 0o777
    if (stats.isDirectory()) {
      report.folders++
      if (mode !== 0o700) report.loose.push(`${relative(dir, path) || '.'}/ ${mode.toString(8)}`)
      for (const entry of await readdir(path)) await walk(join(path, entry))
    } else {
      report.files++
      if (mode !== 0o600) report.loose.push(`${relative(dir, path)} ${mode.toString(8)}`)
    }
  }
  await walk(dir)
  return report
}
