import { execFile, spawn } from 'node:child_process'
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { STEP_MS } from './timeouts.js'

const run = promisify(execFile)
const NO_DECLARATIONS = ['--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false']
const appDir = fileURLToPath(new URL('../../', import.meta.url))
const rootNodeModules = fileURLToPath(new URL('../../../../node_modules', import.meta.url))

/** How a child process ended. */
export interface ChildResult {
  stdout: string
  stderr: string
  code: number | null
  signal: NodeJS.Signals | null
}

/** A copy of the app compiled by tsc into a temporary folder laid out like the real one. */
export interface BuiltApp {
  /** The folder holding `dist/`, `drizzle/`, `package.json` and a `node_modules` link. */
  dir: string
  /** Runs `node <dir>/<script> ...args` in `cwd` and resolves when it exits (SIGKILLs and rejects after a first PGlite open's bound). */
  node(script: string, args: string[], cwd: string): Promise<ChildResult>
  remove(): Promise<void>
}

/**
 * Compiles `apps/reference-api` with its own tsconfig.json into `<tmp>/dist` and copies the committed
 * migrations and db-child.mjs beside it, so a test can check what the build really needs at runtime (the
 * migrations folder, PGlite's wasm and data files) without touching the shared `dist/`.
 */
export async function buildApp(): Promise<BuiltApp> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-refapi-build-'))
  try {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    await run(
      process.execPath,
      // --noCheck: emit only, in a second rather than several; the app's build and typecheck check the types.
      [
        tsc,
        '-p',
        join(appDir, 'tsconfig.json'),
        '--outDir',
        join(dir, 'dist'),
        '--noCheck',
        ...NO_DECLARATIONS,
      ],
      { timeout: STEP_MS.compile },
    ).catch((err: Error & { stdout?: string }) => {
      throw new Error(`tsc failed: ${err.stdout ?? ''}${err.message}`)
    })
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
        const child = spawn(process.execPath, [join(dir, script), ...args], {
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
