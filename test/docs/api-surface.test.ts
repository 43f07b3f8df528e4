/**
 * docs/api.md lists the public API exactly: every export of every built subpath (values and types, read
 * from `dist/**\/*.d.ts` with the TypeScript checker; values also from the module itself), and nothing
 * that is not exported. A new export without its line, or a line left behind by a rename, fails here.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'
import { beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Every subpath of package.json's `exports`, with its built entry point (without extension). */
const SUBPATHS: Record<string, string> = {
  gatehouse: 'dist/index',
  'gatehouse/express': 'dist/express/index',
  'gatehouse/fastify': 'dist/fastify/index',
  'gatehouse/hono': 'dist/hono/index',
  'gatehouse/mcp': 'dist/mcp/index',
  'gatehouse/nestjs': 'dist/nestjs/index',
  'gatehouse/node': 'dist/node/index',
  'gatehouse/web': 'dist/web/index',
  'gatehouse/testing': 'dist/testing/index',
}

/** The names docs/api.md lists under each `## \`subpath\`` heading: the first cell of its table rows. */
function documented(): Map<string, string[]> {
  const sections = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of readFileSync(join(ROOT, 'docs/api.md'), 'utf8').split('\n')) {
    const heading = /^## `([^`]+)`\s*$/.exec(line)
    if (heading) {
      current = []
      sections.set(heading[1]!, current)
    } else if (line.startsWith('## ')) {
      current = undefined
    } else if (current !== undefined) {
      const row = /^\| `([^`]+)` \|/.exec(line)
      if (row) current.push(row[1]!)
    }
  }
  return sections
}

/** Every export of each subpath's declaration file, types included. */
function declared(): Map<string, string[]> {
  const files = Object.values(SUBPATHS).map((entry) => join(ROOT, `${entry}.d.ts`))
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    noEmit: true,
  })
  const checker = program.getTypeChecker()
  const result = new Map<string, string[]>()
  for (const [subpath, entry] of Object.entries(SUBPATHS)) {
    const source = program.getSourceFile(join(ROOT, `${entry}.d.ts`))
    const module = source && checker.getSymbolAtLocation(source)
    if (module === undefined) throw new Error(`${entry}.d.ts: no module`)
    result.set(
      subpath,
      checker.getExportsOfModule(module).map((symbol) => symbol.name),
    )
  }
  return result
}

const sorted = (names: Iterable<string>) => [...new Set(names)].sort()

let docs: Map<string, string[]>
let types: Map<string, string[]>

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/index.d.ts'))) throw new Error('run `node scripts/build.js` first')
  docs = documented()
  types = declared()
}, 60_000)

describe('docs/api.md', () => {
  it('has one section per subpath of package.json, and no other', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>
    }
    const fromPackage = Object.keys(pkg.exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? 'gatehouse' : `gatehouse/${key.slice(2)}`))
    expect(sorted(docs.keys())).toEqual(sorted(fromPackage))
    expect(sorted(Object.keys(SUBPATHS))).toEqual(sorted(fromPackage))
  })

  it.each(Object.keys(SUBPATHS))('%s: lists each export once', (subpath) => {
    const names = docs.get(subpath) ?? []
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([])
  })

  it.each(Object.keys(SUBPATHS))('%s: lists exactly what the declaration file exports', (subpath) => {
    const listed = sorted(docs.get(subpath) ?? [])
    const exported = sorted(types.get(subpath) ?? [])
    expect({
      'exported, not in docs/api.md': exported.filter((name) => !listed.includes(name)),
      'in docs/api.md, not exported': listed.filter((name) => !exported.includes(name)),
    }).toEqual({ 'exported, not in docs/api.md': [], 'in docs/api.md, not exported': [] })
  })

  it.each(Object.keys(SUBPATHS))(
    '%s: every value the module exports at run time is declared and listed',
    async (subpath) => {
      const entry = SUBPATHS[subpath]!
      const values = Object.keys(await import(pathToFileURL(join(ROOT, `${entry}.js`)).href))
      const listed = docs.get(subpath) ?? []
      const declaredNames = types.get(subpath) ?? []
      expect(values.filter((name) => !listed.includes(name) || !declaredNames.includes(name))).toEqual([])
    },
  )
})
