/**
 * The build that `npm start`, `npm test` and `npm run build` run (scripts/build.js): incremental, so that a
 * start with nothing changed does not compile anything, and exact, so that dist/ holds what the sources
 * produce. It builds the real repository; with nothing changed (as after `npm test`'s pretest) it writes
 * nothing.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { BUILD_TIMEOUT, withDistLock } from './dist-lock.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/** Run a package.json script the way npm does; its output, or the failure with it. */
async function npmRun(script: string): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(NPM, ['run', '--silent', script], {
      cwd: ROOT,
      timeout: BUILD_TIMEOUT,
      env: { ...process.env, FORCE_COLOR: '0' },
    })
    return stdout + stderr
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    throw new Error(`npm run ${script} failed:\n${stdout}${stderr}`)
  }
}

/** The tsconfig files the build references, and each one's output folder. */
function projects(): { config: string; outDir: string }[] {
  const solution = JSON.parse(readFileSync(join(ROOT, 'tsconfig.all.json'), 'utf8'))
  return solution.references.map(({ path }: { path: string }) => {
    const config = join(ROOT, path)
    return { config, outDir: join(dirname(config), 'dist') }
  })
}

/**
 * path → mtime of every file the library build wrote (dist/) and of every project's build state: tsc
 * --build rewrites a project's .tsbuildinfo whenever it compiles that project. (Other projects' outputs
 * are left out: test/nestjs compiles examples/nestjs into its dist/ too, in parallel with this file.)
 */
function outputs(): Map<string, number> {
  const times = new Map<string, number>()
  const record = (file: string) => times.set(file, statSync(file).mtimeMs)
  for (const entry of readdirSync(join(ROOT, 'dist'), { recursive: true, withFileTypes: true }))
    if (entry.isFile()) record(join(entry.parentPath, entry.name))
  for (const { config } of projects()) {
    const state = JSON.parse(readFileSync(config, 'utf8')).compilerOptions?.tsBuildInfoFile
    if (state !== undefined && existsSync(join(dirname(config), state))) record(join(dirname(config), state))
  }
  return times
}

describe('the build', () => {
  it(
    'rewrites nothing when nothing changed: a second npm start begins at once',
    async () => {
      await npmRun('prestart') // up to date from here on
      const before = outputs()
      expect(before.size).toBeGreaterThan(100)
      await npmRun('prestart')
      const after = outputs()
      const rewritten = [...after].filter(([file, time]) => before.get(file) !== time).map(([file]) => file)
      expect(rewritten).toEqual([])
      expect(after.size).toBe(before.size)
    },
    2 * BUILD_TIMEOUT,
  )

  it("keeps each project's build state (.tsbuildinfo) in its output folder, so deleting dist/ rebuilds it", () => {
    for (const { config, outDir } of projects()) {
      const { compilerOptions } = JSON.parse(readFileSync(config, 'utf8'))
      const state = join(dirname(config), compilerOptions.tsBuildInfoFile)
      expect(dirname(state), config).toBe(outDir)
      expect(existsSync(state), state).toBe(true)
    }
  })

  it('is the same incremental build for start, test, the packaging test and build; install builds all', () => {
    const build = 'node scripts/build.js'
    expect(pkg.scripts.build).toBe(build)
    expect(pkg.scripts.prestart).toBe(build)
    expect(pkg.scripts.pretest).toBe(build)
    expect(pkg.scripts['test:pack']).toMatch(/^node scripts\/build\.js && /)
    expect(pkg.scripts.prepare).toBe(`${build} --force`)
  })

  it('builds every workspace that has a build script, with the incremental build', () => {
    const referenced = new Set(projects().map(({ config }) => config))
    const workspaces = (pkg.workspaces as string[]).flatMap((pattern) => {
      const parent = join(ROOT, pattern.replace(/\/\*$/, ''))
      return readdirSync(parent).map((name) => join(parent, name))
    })
    const building = workspaces.filter((folder) => {
      const file = join(folder, 'package.json')
      return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).scripts?.build !== undefined
    })
    expect(building.length).toBeGreaterThanOrEqual(2)
    for (const folder of building) {
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'))
      expect(manifest.scripts.build, folder).toBe('tsc --build tsconfig.build.json')
      expect(referenced.has(join(folder, 'tsconfig.build.json')), folder).toBe(true)
    }
  })

  it(
    'removes an output whose source is gone',
    async () => {
      const stale = join(ROOT, 'dist', 'stale-output-check')
      let left = true
      // Not while tarball.test.ts lists dist/ in another worker: it would see the stale output.
      await withDistLock(BUILD_TIMEOUT, async () => {
        mkdirSync(stale, { recursive: true })
        for (const name of ['gone.js', 'gone.js.map', 'gone.d.ts', 'gone.d.ts.map'])
          writeFileSync(join(stale, name), '')
        try {
          await npmRun('build')
          left = existsSync(stale)
        } finally {
          // Whatever happened, the stale output does not outlive this test.
          rmSync(stale, { recursive: true, force: true })
        }
      })
      expect(left).toBe(false)
      expect(existsSync(join(ROOT, 'dist', 'index.js'))).toBe(true)
    },
    2 * BUILD_TIMEOUT,
  )
})
