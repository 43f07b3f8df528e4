/**
 * examples/nestjs compiled with its own tsconfig (`module: commonjs`, emitDecoratorMetadata): a CommonJS
 * Nest app that `require()`s the ESM-only package (Node >= 20.19) and type-checks against its declarations.
 * Its behaviour over HTTP is checked by the adapter contract suite (test/contract/), which runs
 * `node examples/nestjs/dist/main.js` like every other example.
 */
import { execFile } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const EXAMPLE = fileURLToPath(new URL('../../examples/nestjs/', import.meta.url))
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
// Its own output folder, inside the example so that require() finds 'gatehouse' as the example does: the
// contract suite runs examples/nestjs/dist/main.js meanwhile, which a rewrite could catch half-written.
const OUT = `${EXAMPLE}.test-build-${process.pid}/`

beforeAll(async () => {
  // The real build, type check included: a CommonJS consumer must resolve 'gatehouse/nestjs' and its types.
  await promisify(execFile)(process.execPath, [TSC, '-p', `${EXAMPLE}tsconfig.json`, '--outDir', OUT], {
    timeout: 90_000,
  }).catch((error) => {
    throw new Error(`tsc -p examples/nestjs failed:\n${error.stdout}${error.stderr}`)
  })
}, 120_000)

afterAll(() => rm(OUT, { recursive: true, force: true }))

describe('examples/nestjs (CommonJS build)', () => {
  it('is compiled to CommonJS that require()s the ESM-only package', async () => {
    const module = await readFile(`${OUT}app.module.js`, 'utf8')
    expect(module).toContain('require("gatehouse/nestjs")')
    expect(module).not.toMatch(/^import /m)
  })

  it('loads its module graph with require() (Node >= 20.19 require(esm))', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-e', `const m = require(${JSON.stringify(`${OUT}app.module.js`)}); console.log(typeof m.AppModule)`],
      {
        timeout: 30_000,
        env: { ...process.env, GATEHOUSE_ISSUER: 'https://issuer.example/', GATEHOUSE_AUDIENCE: 'api' },
      },
    )
    expect(stdout.trim()).toBe('function')
  })
})
