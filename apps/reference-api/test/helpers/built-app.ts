import { spawn } from 'node:child_process'
import { cp, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NODE_FLAGS } from './node-flags.js'
import { STEP_MS } from './timeouts.js'

const appDir = fileURLToPath(new URL('../../', import.meta.url))
const rootNodeModules = fileURLToPath(new URL('../../../../node_modules', import.meta.url))
/** Written by every build of the app (tsconfig.build.json), so its time is the time of the last build. */
const BUILD_STATE = join(appDir, 'dist/reference-api.tsbuildinfo')

/** How a child process ended. */
export interface ChildResult {
  stdout: string
  stderr: string
  code: number | null
  signal: NodeJS.Signals | null
}

/** A copy of the app's build in a temporary folder laid out like the real one. */
export interface BuiltApp {
  /** The folder holding `dist/`, `drizzle/`, `package.json` and a `node_modules` link. */
  dir: string
  /** Runs `node <dir>/<script> ...args` in `cwd` and resolves when it exits (SIGKILLs and rejects after a first PGlite open's bound). */
  node(script: string, args: string[], cwd: string): Promise<ChildResult>
  remove(): Promise<void>
}

/**
 * Copies what `npm run build` compiled from `apps/reference-api` (its `dist/`), the committed migrations
 * and db-child.mjs into a temporary folder, so a test can check what the build really needs at runtime
 * (the migrations folder, PGlite's wasm and data files) from another place, without touching the shared
 * `dist/`. Throws when the build is missing or older than a source file: `npm test` builds first, a single
 * test file run by hand needs `npm run build`.
 */
export async function copyBuiltApp(): Promise<BuiltApp> {
  await assertBuiltFromCurrentSources()
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-refapi-build-'))
  try {
    const notBuildState = (source: string) => !source.endsWith('.tsbuildinfo')
    await cp(join(appDir, 'dist'), join(dir, 'dist'), { recursive: true, filter: notBuildState })
    await cp(join(appDir, 'drizzle'), join(dir, 'drizzle'), { recursive: true })
    await cp(join(appDir, 'test/helpers/db-child.mjs'), join(dir, 'db-child.mjs'))
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
    await symlink(rootNodeModules, join(dir, 'node_modules'), 'dir')
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  return {
    dir,
    node(script, args, cwd) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [...NODE_FLAGS, join(dir, script), ...args], {
          cwd,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk
        })
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk
        })
        const timer = setTimeout(() => {
          child.kill('SIGKILL')
          reject(new Error(`${script} did not finish within ${STEP_MS.pgliteOpen} ms: ${stderr}`))
        }, STEP_MS.pgliteOpen)
        child.on('error', reject)
        child.on('close', (code, signal) => {
          clearTimeout(timer)
          resolve({ stdout, stderr, code, signal })
        })
      })
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}

/** Throws unless the app's last build is newer than every file under `src/`. */
async function assertBuiltFromCurrentSources(): Promise<void> {
  const built = await stat(BUILD_STATE).catch(() => undefined)
  if (built === undefined)
    throw new Error(`${BUILD_STATE} is missing: run "npm run build" first (npm test does)`)
  const src = join(appDir, 'src')
  for (const entry of await readdir(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const source = join(entry.parentPath, entry.name)
    if ((await stat(source)).mtimeMs > built.mtimeMs)
      throw new Error(`${source} changed after the last build: run "npm run build" first (npm test does)`)
  }
}
