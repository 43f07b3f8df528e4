/**
 * docs/mcp.md's TypeScript compiles as written: each ```ts block is a whole module, type-checked under
 * `strict` against the built package and the MCP SDK, as a user's project would see them (ESM, NodeNext).
 * So the framework glue of gatehouse/mcp fits Express's, Fastify's and Hono's own types without a cast.
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')
const blocks = [...readFileSync(join(ROOT, 'docs/mcp.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map(
  (m) => m[1]!,
)

let dir: string

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/mcp/index.d.ts'))) throw new Error('run `node scripts/build.js` first')
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-mcp-docs-'))
  // Packages resolve as in a user's project: node_modules/gatehouse is the built package.
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
  const files = blocks.map((_, i) => `block-${i + 1}.ts`)
  for (const [i, code] of blocks.entries()) await writeFile(join(dir, files[i]!), code)
  const compilerOptions = {
    target: 'ES2022',
    lib: ['ES2023', 'DOM'],
    types: ['node'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  }
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }))
}, 30_000)

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('docs/mcp.md', () => {
  it('shows Express, Fastify and Hono', () => {
    expect(blocks).toHaveLength(3)
    expect(blocks.map((code) => /from '(express|fastify|hono)'/.exec(code)?.[1])).toEqual([
      'express',
      'fastify',
      'hono',
    ])
  })

  it('compiles under strict', async () => {
    let output = ''
    try {
      await promisify(execFile)(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], {
        timeout: 120_000,
      })
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
      output = `${stdout}${stderr}` || String(error)
    }
    expect(output).toBe('')
  }, 150_000)
})
