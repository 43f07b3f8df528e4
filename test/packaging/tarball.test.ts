/**
 * What `npm install gatehouse` gets: the file list of `npm pack --dry-run --json`, checked against the rules
 * of scripts/tarball-contents.js (docs/packaging.md, "What the tarball holds"). The full packaging test,
 * which installs the tarball and imports it, is `npm run test:pack`.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { tarballProblems } from '../../scripts/tarball-contents.js'
import { BUILD_TIMEOUT, withDistLock } from './dist-lock.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

let files: string[] = []

beforeAll(async () => {
  // Scripts off: `prepare` would rebuild everything; npm test has just built. The lock: build.test.ts adds
  // a stale output to dist/ while it builds, maybe in another worker.
  const pack = () =>
    promisify(execFile)(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      timeout: 60_000,
    })
  const { stdout } = await withDistLock(BUILD_TIMEOUT, pack)
  files = (JSON.parse(stdout)[0] as { files: { path: string }[] }).files.map((file) => file.path)
}, BUILD_TIMEOUT + 90_000)

describe('the tarball', () => {
  it('holds the compiled modules with their sources and maps, the docs, README, LICENSE and nothing else', () => {
    expect(tarballProblems(files, pkg, ROOT)).toEqual([])
    expect(files).toContain('dist/index.js')
    expect(files).toContain('src/index.ts')
    expect(files).toContain('docs/configuration.md')
  })

  it('ships no build state, tests, examples or apps', () => {
    expect(
      files.filter((file) => /\.tsbuildinfo$|(^|\/)test\/|\.test\.|^examples\/|^apps\//.test(file)),
    ).toEqual([])
  })

  it.each<[string, string[], RegExp]>([
    ['build state', ['dist/gatehouse.tsbuildinfo'], /^dist\/gatehouse\.tsbuildinfo: build state/],
    ['a test', ['src/core/jws.test.ts'], /^src\/core\/jws\.test\.ts: a test/],
    ['an example', ['examples/express/server.js'], /^examples\/express\/server\.js: not part of the package/],
    ['the reference API', ['apps/reference-api/dist/index.js'], /^apps\/reference-api\/dist\/index\.js: /],
    [
      'a stale output',
      ['dist/gone.js', 'dist/gone.js.map', 'dist/gone.d.ts', 'dist/gone.d.ts.map'],
      /no src\/gone\.ts/,
    ],
    ['a module without its declarations', ['dist/half.js', 'src/half.ts'], /^dist\/half\.d\.ts: missing/],
    ['a source without its module', ['src/extra.ts'], /^src\/extra\.ts: ships without its compiled module/],
    ['a stray top-level file', ['CHANGELOG.txt'], /^CHANGELOG\.txt: not in dist\//],
  ])('the rules refuse %s', (_name, extra, problem) => {
    const problems = tarballProblems([...files, ...extra], pkg, ROOT)
    expect(
      problems.some((line) => problem.test(line)),
      problems.join('\n'),
    ).toBe(true)
  })

  it('the rules require every exports target', () => {
    const problems = tarballProblems(
      files.filter((file) => file !== 'dist/express/index.d.ts'),
      pkg,
      ROOT,
    )
    expect(problems).toContain('dist/express/index.d.ts: an exports or bin target, missing')
  })
})
