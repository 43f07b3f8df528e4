/**
 * What the published tarball holds (docs/packaging.md, "What the tarball holds"), as rules over the file
 * list of `npm pack --json`. Used by scripts/pack-check.js and test/packaging/tarball.test.ts.
 *
 *   dist/      the compiled library: for every module, .js, .d.ts and their two maps; nothing else
 *   src/       the TypeScript sources of exactly those modules, so that the maps resolve: declaration maps
 *              take an editor's "go to definition" to the source, source maps give stack traces
 *              (`node --enable-source-maps`) the source's lines
 *   docs/      the Markdown reference that the README, the doc comments and some error messages point to
 *   README.md, LICENSE, package.json
 *
 * Never: build state (.tsbuildinfo), tests or fixtures, examples/, apps/, bench/, scripts/, dotfiles.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, posix } from 'node:path'

const TOP_LEVEL = new Set(['package.json', 'README.md', 'LICENSE'])
const FOLDERS = ['dist/', 'src/', 'docs/']
/** Files that must never ship, whatever `files` in package.json says. */
const NEVER = [
  [/\.tsbuildinfo$/, 'build state'],
  [/(^|\/)(test|tests|__tests__|fixtures)\//, 'a test folder'],
  [/\.(test|spec)\.[cm]?[jt]sx?$/, 'a test'],
  [/^(examples|apps|bench|scripts|coverage|node_modules)\//, 'not part of the package'],
  [/(^|\/)\.[^/]/, 'a dotfile'],
]
const DIST_MODULE = /^dist\/(.+)\.(js|js\.map|d\.ts|d\.ts\.map)$/
const EMITTED = ['js', 'js.map', 'd.ts', 'd.ts.map']

/**
 * The problems with a tarball's file list (paths as `npm pack --json` gives them, relative to the package
 * root), an empty array when there are none. `root` is the package folder the tarball was packed from: the
 * source maps are read there to check that every source they name ships.
 */
export function tarballProblems(files, pkg, root) {
  const problems = []
  const listed = new Set(files)

  for (const file of files) {
    const never = NEVER.find(([pattern]) => pattern.test(file))
    if (never) problems.push(`${file}: ${never[1]}, must not ship`)
    else if (!TOP_LEVEL.has(file) && !FOLDERS.some((folder) => file.startsWith(folder)))
      problems.push(`${file}: not in dist/, src/, docs/ or the top-level files`)
    else if (file.startsWith('dist/') && !DIST_MODULE.test(file))
      problems.push(`${file}: dist/ holds only .js, .d.ts and their maps`)
    else if (file.startsWith('src/') && !/\.ts$/.test(file))
      problems.push(`${file}: src/ holds only .ts sources`)
    else if (file.startsWith('docs/') && !/\.md$/.test(file))
      problems.push(`${file}: docs/ holds only .md pages`)
  }
  for (const file of TOP_LEVEL) if (!listed.has(file)) problems.push(`${file}: missing`)

  // Each module ships whole (code, declarations, both maps) with its source, and each source with its module.
  const modules = new Set(files.map((file) => DIST_MODULE.exec(file)?.[1]).filter(Boolean))
  for (const module of modules) {
    for (const extension of EMITTED)
      if (!listed.has(`dist/${module}.${extension}`)) problems.push(`dist/${module}.${extension}: missing`)
    if (!listed.has(`src/${module}.ts`))
      problems.push(`dist/${module}.js: no src/${module}.ts (a stale output? run \`npm run build\`)`)
  }
  for (const file of files) {
    const source = /^src\/(.+)\.ts$/.exec(file)
    if (source && !modules.has(source[1])) problems.push(`${file}: ships without its compiled module`)
  }

  // Every exports target and the bin.
  const targets = Object.values(pkg.exports ?? {}).flatMap((entry) =>
    typeof entry === 'string' ? [entry] : Object.values(entry),
  )
  const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {})
  for (const target of [...targets, ...bins]) {
    const path = target.replace(/^\.\//, '')
    if (!listed.has(path)) problems.push(`${path}: an exports or bin target, missing`)
  }

  // Every source a map names ships, so that the maps resolve in an installed package.
  for (const file of files) {
    if (!file.endsWith('.map') || !existsSync(join(root, file))) continue
    const { sources = [] } = JSON.parse(readFileSync(join(root, file), 'utf8'))
    for (const source of sources) {
      const resolved = posix.normalize(posix.join(posix.dirname(file), source))
      if (!listed.has(resolved)) problems.push(`${file}: names ${source}, which does not ship`)
    }
  }
  return problems
}
