/**
 * The TypeScript in the guides compiles as written: every ```ts block of docs/adapters.md,
 * docs/adapters-hono-nestjs.md, docs/dpop.md and docs/introspection.md is a whole module, type-checked
 * under `strict` against the built package, as a user's project would see it (ESM with NodeNext; the
 * NestJS blocks as CommonJS with decorators).
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')
const DOCS = ['docs/adapters.md', 'docs/adapters-hono-nestjs.md', 'docs/dpop.md', 'docs/introspection.md']

const blocks = DOCS.flatMap((doc) =>
  [...readFileSync(join(ROOT, doc), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({
    name: `${doc.replace(/\W+/g, '-')}-${i + 1}`,
    code: m[1] as string,
  })),
)
const isNest = (code: string) => code.includes("from '@nestjs/common'")

const COMMON = {
  target: 'ES2022',
  lib: ['ES2023'],
  types: ['node'],
  strict: true,
  skipLibCheck: true,
  noEmit: true,
}

let dir: string

async function project(folder: string, type: 'module' | 'commonjs', options: object, files: string[]) {
  await mkdir(join(dir, folder))
  await writeFile(join(dir, folder, 'package.json'), JSON.stringify({ type }))
  await writeFile(
    join(dir, folder, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { ...COMMON, ...options }, files }),
  )
}

async function typecheck(folder: string): Promise<string> {
  try {
    await promisify(execFile)(process.execPath, [TSC, '-p', join(dir, folder, 'tsconfig.json')], {
      timeout: 120_000,
    })
    return ''
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    return `${stdout}${stderr}` || String(error)
  }
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/index.d.ts'))) throw new Error('run `npm run build` first')
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-doc-snippets-'))
  // Packages resolve as in a user's project: node_modules/gatehouse is the built package.
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  const esm = blocks.filter((b) => !isNest(b.code))
  const nest = blocks.filter((b) => isNest(b.code))
  await project('esm', 'module', { module: 'NodeNext', moduleResolution: 'NodeNext' }, [
    ...esm.map((b) => `${b.name}.ts`),
  ])
  await project(
    'nest',
    'commonjs',
    { module: 'commonjs', esModuleInterop: true, experimentalDecorators: true, emitDecoratorMetadata: true },
    nest.map((b) => `${b.name}.ts`),
  )
  for (const block of esm) await writeFile(join(dir, 'esm', `${block.name}.ts`), block.code)
  for (const block of nest) await writeFile(join(dir, 'nest', `${block.name}.ts`), block.code)
}, 30_000)

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('adapter guides', () => {
  it('have TypeScript blocks for every adapter, NestJS included', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(7)
    // One NestJS block in the adapter guides, one on the DPoP page, one on the introspection page.
    expect(blocks.filter((b) => isNest(b.code))).toHaveLength(3)
  })

  it('ESM blocks compile under strict', async () => {
    expect(await typecheck('esm')).toBe('')
  }, 150_000)

  it('the NestJS blocks compile under strict as CommonJS', async () => {
    expect(await typecheck('nest')).toBe('')
  }, 150_000)
})
