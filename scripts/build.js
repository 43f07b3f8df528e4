#!/usr/bin/env node
/**
 * The build (docs/packaging.md): `tsc --build tsconfig.all.json`, which references every project that
 * compiles (the library, the reference API, the examples), then removes outputs whose source is gone.
 *
 *   node scripts/build.js            incremental: npm start, npm test, npm run build. Each project keeps a
 *                                    .tsbuildinfo in its dist/; a project whose inputs (and references'
 *                                    declarations) did not change is not compiled again, so a build with
 *                                    nothing to do is one up-to-date check (a second or two).
 *   node scripts/build.js --force    everything, whatever the build state says: `prepare` (npm ci,
 *                                    npm install, npm pack, npm publish). `tsc --build` does not notice an
 *                                    output deleted or edited by hand; a forced build does.
 *
 * Other arguments go to tsc (`--verbose` says why each project is or is not rebuilt). Outputs without a
 * source (a renamed or deleted .ts file) are removed after a successful build, so that dist/ and the
 * published tarball hold exactly what the sources produce. Exit code: tsc's.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const SOLUTION = join(ROOT, 'tsconfig.all.json')
// tsc's own entry point, not the TypeScript API: it loads a smaller bundle (a second less per build).
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

const { status, signal } = spawnSync(process.execPath, [TSC, '--build', SOLUTION, ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
})
if (status === 0) for (const project of projects(SOLUTION)) pruneStale(project)
process.exitCode = status ?? (signal ? 1 : 0)

/** Every project tsconfig.all.json references, references of references included. */
function projects(config, seen = new Map()) {
  for (const reference of readJson(config).references ?? []) {
    let path = resolve(dirname(config), reference.path)
    if (!path.endsWith('.json')) path = join(path, 'tsconfig.json')
    if (seen.has(path)) continue
    seen.set(path, compilerPaths(path))
    projects(path, seen)
  }
  return seen.values()
}

/** rootDir and outDir of a tsconfig, following relative `extends`; each resolved from the file that sets it. */
function compilerPaths(config) {
  const json = readJson(config)
  const inherited =
    typeof json.extends === 'string' && json.extends.startsWith('.')
      ? compilerPaths(resolve(dirname(config), json.extends))
      : {}
  const own = json.compilerOptions ?? {}
  return {
    rootDir: own.rootDir === undefined ? inherited.rootDir : resolve(dirname(config), own.rootDir),
    outDir: own.outDir === undefined ? inherited.outDir : resolve(dirname(config), own.outDir),
  }
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'))
}

/**
 * Delete emitted files (.js, .d.ts and their maps) in outDir whose source in rootDir no longer exists.
 * Projects without both folders set are left alone.
 */
function pruneStale({ rootDir, outDir }) {
  if (rootDir === undefined || outDir === undefined || !existsSync(outDir)) return
  for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
    const emitted = /^(.*?)(\.d)?\.([cm]?)(js|ts)(\.map)?$/.exec(entry.name)
    if (!entry.isFile() || emitted === null) continue
    const folder = entry.parentPath ?? entry.path
    const source = join(rootDir, relative(outDir, folder), emitted[1])
    const candidates = emitted[3] ? [`.${emitted[3]}ts`] : ['.ts', '.tsx']
    if (!candidates.some((extension) => existsSync(source + extension))) rmSync(join(folder, entry.name))
  }
  removeEmptyFolders(outDir)
}

function removeEmptyFolders(folder) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const path = join(folder, entry.name)
    removeEmptyFolders(path)
    if (readdirSync(path).length === 0) rmSync(path, { recursive: true })
  }
}
