#!/usr/bin/env node
/**
 * The packaging test (docs/packaging.md): what a user gets from `npm install gatehouse`.
 *
 *  1. `npm pack` the package as it would be published (dist must be built: `npm run build`);
 *  2. check the tarball's file list against the rules of scripts/tarball-contents.js: dist/ modules whole,
 *     with their sources in src/ (every map resolves), docs/, README.md, LICENSE; no build state, tests,
 *     examples or apps; every `exports` target and the bin present;
 *  3. install the tarball into a fresh temporary project (offline: its dependencies and the optional peers
 *     (express, fastify, hono, NestJS, the MCP SDK…) are linked from this repository's node_modules);
 *  4. import every subpath from ESM, `require()` every subpath from CommonJS (Node >= 20.19: require(esm));
 *  5. compile TypeScript files that use the public types, the Express `req.auth` and Fastify
 *     `request.auth` augmentations included, with `tsc --noEmit`: an ESM .mts and a CommonJS .cts under
 *     `nodenext`, and a CommonJS project under `node10` resolution (`typesVersions`);
 *  6. run publint and arethetypeswrong on the tarball.
 *
 * Usage: `npm run test:pack` (builds, then runs this file).
 * Exit code 0 when every step passes; the first failing step is printed with its output.
 * Network: none (npm runs with --offline; attw without DefinitelyTyped lookups).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tarballProblems } from './tarball-contents.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const SUBPATHS = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`))
/** Optional peers and the type packages the TypeScript check needs, linked from this repository. */
const LINKED = [
  'express',
  '@types/express',
  '@types/node',
  'fastify',
  'fastify-plugin',
  'hono',
  '@modelcontextprotocol/sdk',
  '@nestjs/common',
  '@nestjs/core',
  'reflect-metadata',
  'rxjs',
]
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const bin = (name) => join(ROOT, 'node_modules', '.bin', name)

// ── the TypeScript consumer ──────────────────────────────────────────────────────────────────────────

/** What a TypeScript app on Node >= 20.19 would use. */
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    noEmit: true,
    types: ['node'],
    // The peers' own declaration files are not under test, ours are.
    skipLibCheck: false,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
  },
  files: ['check.mts', 'check.cts'],
}

const ESM_TYPES = `
import type { Request } from 'express'
import Fastify, { type FastifyContextConfig, type FastifyRequest } from 'fastify'
import {
  type AccessRule,
  type AuthContext,
  createGate,
  type ErrorCode,
  GatehouseError,
  type JWTClaims,
  optionsFromEnv,
} from 'gatehouse'
import { authenticate as expressAuthenticate, authOf, errorHandler, requireScopes } from 'gatehouse/express'
import gatehouse, { authorize, type RouteAccess } from 'gatehouse/fastify'
import * as hono from 'gatehouse/hono'
import { type McpProtection, protectMcp } from 'gatehouse/mcp'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import * as nestjs from 'gatehouse/nestjs'
import { authenticate, withAuth } from 'gatehouse/node'
import { startDevIssuer } from 'gatehouse/testing'

interface User { id: string }
interface MyClaims extends JWTClaims { tenant: string }

const gate = createGate<User>({ ...optionsFromEnv(), principal: (a) => ({ id: a.claims.sub ?? '' }) })
const middleware = expressAuthenticate(gate, { scopes: 'read:messages', methods: { POST: { scopes: 'write:messages' } } })
const sameGate: typeof gate = middleware.gate
const handlers = [middleware, requireScopes({ any: ['a', 'b'] }), errorHandler()]

// Express: req.auth is declared on every Request once gatehouse/express is imported.
declare const req: Request
const fromExpress: AuthContext | null | undefined = req.auth
const typed: MyClaims = authOf<User, MyClaims>(req).claims
// @ts-expect-error: req.auth is an auth context, not a string
const notAString: string = req.auth

// Fastify: request.auth and the route config's access.
declare const request: FastifyRequest
const fromFastify: AuthContext | null = request.auth
const app = Fastify()
app.register(gatehouse, { issuer: 'https://issuer.example/', audience: 'https://api.example', protectAll: true })
app.get('/scoped', { config: { access: { scopes: 'read:messages' } } }, async (r) => ({ sub: r.auth?.claims.sub }))
app.get('/public', { config: { access: 'public' } }, async () => ({}))
app.get('/pre', { preHandler: authorize({ roles: 'admin' }) }, async () => ({}))
// Fastify infers route config generically, so a typo inline is caught at start-up (a TypeError); a typed
// config object catches it at compile time.
// @ts-expect-error: "scope" is not a rule option (it is "scopes")
const typo: FastifyContextConfig = { access: { scope: 'read' } }
const routeAccess: RouteAccess = { optional: ['GET'] } satisfies AccessRule

// MCP: the SDK's AuthInfo, and glue that Express takes as a middleware.
const mcp: McpProtection<User> = protectMcp(gate, { tools: { write_note: { scopes: 'notes:write' } } })
declare const authContext: AuthContext<User>
const authInfo: AuthInfo = mcp.authInfo(authContext)
const mcpHandlers = [mcp.express.protectedResourceMetadata, mcp.express.authenticate]
// @ts-expect-error: a tool's rule is a rule ("scopes", not "scope")
protectMcp(gate, { tools: { write_note: { scope: 'notes:write' } } })

// Errors narrow on their code.
function describe(error: unknown): string {
  if (!(error instanceof GatehouseError)) return 'other'
  const code: ErrorCode = error.code
  switch (error.code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired'
    default:
      return code
  }
}

export { authenticate, authInfo, describe, fromExpress, fromFastify, handlers, hono, mcpHandlers, nestjs, notAString, routeAccess, sameGate, startDevIssuer, typed, typo, withAuth }
`

const CJS_TYPES = `
// A CommonJS TypeScript app (NestJS's default output): TypeScript >= 5.8 with module nodenext compiles
// these imports to require(), which Node >= 20.19 runs on this ESM-only package.
import { createGate, type AuthContext } from 'gatehouse'
import type { Request } from 'express'
import { authenticate } from 'gatehouse/express'

declare const req: Request
const fromExpress: AuthContext | null | undefined = req.auth
const gate = createGate({ issuer: 'https://issuer.example/', audience: 'https://api.example' })
export = { gate, middleware: authenticate(gate), fromExpress }
`

/**
 * A CommonJS project on `"module": "commonjs"` without `moduleResolution` (node10, older NestJS templates):
 * node10 predates `exports`; the subpaths resolve through `typesVersions` in package.json.
 */
const NODE10_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'commonjs',
    moduleResolution: 'node10',
    strict: true,
    noEmit: true,
    esModuleInterop: true,
    types: ['node'],
    skipLibCheck: false,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
  },
  files: ['check.ts'],
}

const NODE10_TYPES = `
${SUBPATHS.map((subpath, i) => `import * as entry${i} from '${subpath}'`).join('\n')}
import { createGate, type AuthContext } from 'gatehouse'
import type { Request } from 'express'
import { authenticate } from 'gatehouse/express'

declare const req: Request
const fromExpress: AuthContext | null | undefined = req.auth
const gate = createGate({ issuer: 'https://issuer.example/', audience: 'https://api.example' })
export = { gate, middleware: authenticate(gate), fromExpress, entries: [${SUBPATHS.map((_, i) => `entry${i}`).join(', ')}] }
`

let failures = 0
function step(name, fn) {
  const started = Date.now()
  try {
    fn()
    console.log(`✓ ${name} (${Date.now() - started} ms)`)
  } catch (error) {
    failures++
    const output = [error.stdout, error.stderr].filter(Boolean).map(String).join('\n').trim()
    console.log(`✗ ${name}\n  ${error.message.split('\n')[0]}${output ? `\n${output.replace(/^/gm, '    ')}` : ''}`)
  }
}
/** Run a command; a non-zero exit throws with its output. Bounded: nothing here may hang CI. */
function run(command, args, cwd, timeout = 120_000) {
  return execFileSync(command, args, { cwd, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] })
}

if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first.')
  process.exit(1)
}

const work = mkdtempSync(join(tmpdir(), 'gatehouse-pack-'))
const app = join(work, 'app')
let tarball = ''
try {
  step('npm pack', () => {
    // Scripts off: `prepare` would rebuild; the caller builds first, so the tarball is what was built.
    const [info] = JSON.parse(run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT))
    tarball = join(work, info.filename)
    const problems = tarballProblems(
      info.files.map((file) => file.path),
      pkg,
      ROOT,
    )
    if (problems.length > 0) {
      const shown = problems.slice(0, 20).join('\n')
      throw Object.assign(new Error(`${problems.length} problem(s) with the tarball's contents`), { stdout: shown })
    }
    console.log(`  ${info.entryCount} files, ${info.size} bytes packed, ${info.unpackedSize} unpacked`)
  })
  if (!tarball) throw new Error('no tarball')

  step('install the tarball into a fresh project', () => {
    mkdirSync(app)
    // The package's own dependencies (jose) come from this repository's node_modules, as file: links, so
    // that the install needs neither the registry nor npm's cache; npm still checks their version ranges.
    const dependencies = Object.fromEntries(
      Object.keys(pkg.dependencies ?? {}).map((name) => [name, `file:${join(ROOT, 'node_modules', name)}`]),
    )
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'pack-check', private: true, type: 'module', dependencies }),
    )
    run(NPM, ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', tarball], app)
    // After the install, which would prune them. Symlinks resolve to this repository, so their own
    // dependencies resolve there too.
    for (const name of LINKED) {
      const link = join(app, 'node_modules', name)
      if (existsSync(link)) continue
      mkdirSync(dirname(link), { recursive: true })
      symlinkSync(join(ROOT, 'node_modules', name), link, 'junction')
    }
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', pkg.name, 'package.json'), 'utf8'))
    if (installed.version !== pkg.version) throw new Error(`installed ${installed.version}, packed ${pkg.version}`)
  })

  step(`import every subpath from ESM (${SUBPATHS.join(', ')})`, () => {
    const script = `for (const s of ${JSON.stringify(SUBPATHS)}) {
      const m = await import(s)
      if (Object.keys(m).length === 0) throw new Error(s + ': no exports')
    }
    const { createGate } = await import('gatehouse'); const { authenticate } = await import('gatehouse/express')
    if (typeof createGate !== 'function' || typeof authenticate !== 'function') throw new Error('missing functions')`
    run(process.execPath, ['--input-type=module', '-e', script], app)
  })

  step('require() every subpath from CommonJS', () => {
    const script = `for (const s of ${JSON.stringify([...SUBPATHS, `${pkg.name}/package.json`])}) {
      const m = require(s)
      if (Object.keys(m).length === 0) throw new Error(s + ': no exports')
    }
    if (typeof require('gatehouse').createGate !== 'function') throw new Error('createGate missing')`
    run(process.execPath, ['--no-warnings=ExperimentalWarning', '--input-type=commonjs', '-e', script], app)
  })

  step('tsc --noEmit on files using the public types (ESM and CommonJS)', () => {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2))
    writeFileSync(join(app, 'check.mts'), ESM_TYPES)
    writeFileSync(join(app, 'check.cts'), CJS_TYPES)
    run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app)
  })

  step('tsc --noEmit on a CommonJS project under node10 resolution (typesVersions)', () => {
    const project = join(app, 'node10')
    mkdirSync(project)
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(NODE10_TSCONFIG, null, 2))
    writeFileSync(join(project, 'check.ts'), NODE10_TYPES)
    run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project)
  })

  step('publint', () => {
    const out = run(bin('publint'), ['run', '--strict', tarball], ROOT)
    if (!/All good/.test(out)) throw Object.assign(new Error('publint reported messages'), { stdout: out })
  })

  step('arethetypeswrong (every resolution mode; require(esm) allowed, see docs/packaging.md)', () => {
    run(
      bin('attw'),
      [tarball, '--ignore-rules', 'cjs-resolves-to-esm', '--no-definitely-typed', '--format', 'ascii'],
      ROOT,
    )
  })
} finally {
  rmSync(work, { recursive: true, force: true })
}

if (failures > 0) {
  console.log(`\n${failures} packaging check(s) failed`)
  process.exit(1)
}
console.log('\npackaging checks passed')
