/**
 * ARCHITECTURE.md's arrows are enforced by biome.json: these tests lint probe files that break the rules,
 * in a scratch tree with the repository's own biome.json, and check that each wrong arrow (and an import
 * cycle made only of type imports) is refused while the allowed ones pass.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BIOME = join(ROOT, 'node_modules', '.bin', 'biome')

/** The rooms in ARCHITECTURE.md's table, top to bottom. */
function documentedRooms(): string[] {
  const text = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8')
  return [...text.matchAll(/^\| `([a-z-]+)\/` \|/gm)].map((match) => match[1]!)
}

interface Diagnostic {
  category: string
  location: { path: string; start: { line: number } }
}

describe('ARCHITECTURE.md and biome.json', () => {
  const rooms = documentedRooms()
  let scratch: string
  let diagnostics: Diagnostic[]

  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(scratch, path)), { recursive: true })
    writeFileSync(join(scratch, path), text)
  }
  const imports = (specifiers: string[]) =>
    `${specifiers.map((s, i) => `import { x${i} } from '${s}'`).join('\n')}\nexport const all = [${specifiers.map((_, i) => `x${i}`).join(', ')}]\n`
  const flagged = (path: string, category: string) =>
    diagnostics
      .filter((d) => d.location.path === path && d.category === category)
      .map((d) => d.location.start.line)
      .sort((a, b) => a - b)

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'gatehouse-architecture-'))
    const config = JSON.parse(readFileSync(join(ROOT, 'biome.json'), 'utf8'))
    delete config.$schema
    writeFileSync(join(scratch, 'biome.json'), JSON.stringify(config))
    rooms.forEach((room, i) => {
      const below = rooms.slice(i + 1).map((other) => `../${other}/probe.js`)
      write(`src/core/${room}/down.ts`, imports([...below, '../../express/index.js']))
      const above = rooms.slice(0, i).map((other) => `../${other}/probe.js`)
      write(`src/core/${room}/up.ts`, imports([...above, '../errors.js', '../types.js', './sibling.js']))
    })
    write('src/core/errors.ts', imports(['./lib/probe.js', '../express/index.js']))
    write('src/express/down.ts', imports(['../fastify/index.js', '../cli/main.js', '../testing/index.js']))
    write('src/express/up.ts', imports(['../core/http/gate.js', '../core/errors.js', '../node/headers.js']))
    write('src/core/lib/cycle-a.ts', "import type { B } from './cycle-b.js'\nexport interface A { b?: B }\n")
    write('src/core/lib/cycle-b.ts', "import type { A } from './cycle-a.js'\nexport interface B { a?: A }\n")
    const run = spawnSync(BIOME, ['lint', '--reporter=json', '--max-diagnostics=1000', '.'], {
      cwd: scratch,
      encoding: 'utf8',
    })
    const report = JSON.parse(run.stdout) as { diagnostics: Diagnostic[] }
    diagnostics = report.diagnostics
  }, 60_000)

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true })
  })

  it('names the same rooms, in the same order, as biome.json and src/core', () => {
    const config = JSON.parse(readFileSync(join(ROOT, 'biome.json'), 'utf8')) as {
      overrides: { includes: string[] }[]
    }
    const configured = config.overrides
      .flatMap((override) => override.includes)
      .map((include) => /^src\/core\/([a-z-]+)\/\*\*$/.exec(include)?.[1])
      .filter((room) => room !== undefined)
    expect(configured).toEqual(rooms)
    const folders = readdirSync(join(ROOT, 'src/core'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
    expect([...folders].sort()).toEqual([...rooms].sort())
  })

  it('refuses every import of a room below, and of anything outside the core', () => {
    rooms.forEach((room, i) => {
      const expected = Array.from({ length: rooms.length - i }, (_, line) => line + 1)
      expect(flagged(`src/core/${room}/down.ts`, 'lint/style/noRestrictedImports'), room).toEqual(expected)
    })
    expect(flagged('src/core/errors.ts', 'lint/style/noRestrictedImports')).toEqual([1, 2])
  })

  it('accepts imports of the rooms above, the floor files and siblings', () => {
    for (const room of rooms)
      expect(flagged(`src/core/${room}/up.ts`, 'lint/style/noRestrictedImports')).toEqual([])
  })

  it('keeps adapters apart from each other and from the tools', () => {
    expect(flagged('src/express/down.ts', 'lint/style/noRestrictedImports')).toEqual([1, 2, 3])
    expect(flagged('src/express/up.ts', 'lint/style/noRestrictedImports')).toEqual([])
  })

  it('refuses an import cycle made only of type imports', () => {
    expect(flagged('src/core/lib/cycle-a.ts', 'lint/suspicious/noImportCycles')).toEqual([1])
    expect(flagged('src/core/lib/cycle-b.ts', 'lint/suspicious/noImportCycles')).toEqual([1])
  })
})
