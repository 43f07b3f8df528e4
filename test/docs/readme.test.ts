/**
 * The README's code is the tested code. A block marked `<!-- readme-file: FILE -->` is FILE, whole; a block
 * marked `<!-- readme-snippet: FILE -->` is copied from FILE, each of its lines in FILE in the same order.
 * The framework examples the README shows whole are compiled under `strict` (npm run build, npm run
 * typecheck) and started here as real servers trusting a real dev issuer.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AccessRule, type AuthContext, compileRule } from '../../src/core/authz/index.js'
import type { GatehouseError } from '../../src/core/errors.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { bearer, call } from '../contract/http.js'
import { ROOT, type RunningProcess, startProcess } from '../contract/process.js'

const root = new URL('../../', import.meta.url)
const readme = readFileSync(new URL('README.md', root), 'utf8')
const snippets = [...readme.matchAll(/<!-- readme-snippet: (\S+) -->\n```\w*\n([\s\S]*?)```/g)].map((m) => ({
  file: m[1] as string,
  lines: (m[2] as string).split('\n').filter((line) => line.trim() !== ''),
}))

const files = [...readme.matchAll(/<!-- readme-file: (\S+) -->\n```\w*\n([\s\S]*?)```/g)].map((m) => ({
  file: m[1] as string,
  text: m[2] as string,
}))

describe('README files', () => {
  it('shows the framework examples whole', () => {
    expect(files.map((f) => f.file)).toEqual([
      'examples/express/server.ts',
      'examples/fastify/server.ts',
      'examples/hono/server.ts',
      'examples/nestjs/src/messages.controller.ts',
    ])
  })

  it.each(files.map((f) => [f.file, f] as const))('%s: the block is the whole file', (_, shown) => {
    expect(shown.text).toBe(readFileSync(new URL(shown.file, root), 'utf8'))
  })
})

describe('README snippets', () => {
  it('finds the snippets', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(1)
  })

  it.each(snippets.map((s) => [s.file, s] as const))(
    '%s: every line is in the file, in order',
    (_, snippet) => {
      const source = readFileSync(new URL(snippet.file, root), 'utf8').split('\n')
      let at = 0
      for (const line of snippet.lines) {
        const found = source.indexOf(line, at)
        expect(found, `README line not found in order in ${snippet.file}: ${line}`).toBeGreaterThanOrEqual(0)
        at = found + 1
      }
    },
  )

  it('starts with the two set-up commands', () => {
    const head = readme.split('\n').slice(0, 6).join('\n')
    expect(head).toContain('npm ci && npm start')
    expect(head).toContain('npm test')
  })
})

describe('README: "Authorization in one rule"', () => {
  const block = /## Authorization in one rule\n\n```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
  const rule = new Function(`${block}\nreturn rule`)() as AccessRule
  const compiled = compileRule(rule)
  const auth = (scopes: string[], roles: string[]) =>
    ({
      scopes: new Set(scopes),
      roles: new Set(roles),
      permissions: new Set(),
      groups: new Set(),
    }) as unknown as AuthContext
  const denied = (run: () => void) => {
    try {
      run()
    } catch (error) {
      return (error as GatehouseError).code
    }
    return 'allowed'
  }

  it('does what the README says it does', () => {
    expect(compiled.requiresToken('GET')).toBe(false)
    expect(denied(() => compiled.authorize(auth([], []), 'POST'))).toBe('ERR_POLICY_SCOPE')
    expect(denied(() => compiled.authorize(auth(['write:messages'], []), 'POST'))).toBe('allowed')
    // DELETE: the admin role AND both scopes.
    expect(denied(() => compiled.authorize(auth(['delete:messages', 'read:messages'], []), 'DELETE'))).toBe(
      'ERR_POLICY_ROLE',
    )
    expect(denied(() => compiled.authorize(auth(['delete:messages'], ['admin']), 'DELETE'))).toBe(
      'ERR_POLICY_SCOPE',
    )
    expect(
      denied(() => compiled.authorize(auth(['delete:messages', 'read:messages'], ['admin']), 'DELETE')),
    ).toBe('allowed')
  })
})

describe('the README servers, started as written', () => {
  const servers = ['express', 'fastify', 'hono', 'node', 'web']
  let issuer: DevIssuer
  const running = new Map<string, RunningProcess>()

  beforeAll(async () => {
    const scripts = servers.map((name) => `examples/dist/${name}/server.js`)
    for (const script of ['dist/index.js', ...scripts]) {
      if (!existsSync(join(ROOT, script)))
        throw new Error(`${script} is missing: run \`npm run build\` first`)
    }
    issuer = await startDevIssuer({ dataDir: null })
    const env = {
      GATEHOUSE_ISSUER: issuer.issuer,
      GATEHOUSE_AUDIENCE: issuer.audience,
      GATEHOUSE_JWKS_URL: issuer.jwksUri,
      PORT: '0',
    }
    const started = await Promise.allSettled(
      scripts.map((script) => startProcess({ command: process.execPath, args: [script], env })),
    )
    started.forEach((result, i) => {
      if (result.status === 'fulfilled') running.set(servers[i]!, result.value)
    })
    const failed = started.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []))
    if (failed.length > 0) throw new Error(`README servers failed to start:\n${failed.join('\n')}`)
  }, 60_000)

  afterAll(async () => {
    await Promise.all([...running.values()].map((server) => server.stop()))
    await issuer?.close()
  }, 20_000)

  it.each(servers)(
    '%s: /public, /protected and /api/private-scoped answer as the README says',
    async (name) => {
      const url = running.get(name)!.url
      const reader = await issuer.mint({ scope: 'read:messages' }, { sub: 'alice' })
      const nobody = await issuer.mint({}, { sub: 'alice' })
      const answers = {
        public: await call(`${url}/public`),
        anonymous: await call(`${url}/protected`),
        protected: await call(`${url}/protected`, { headers: bearer(nobody) }),
        unscoped: await call(`${url}/api/private-scoped`, { headers: bearer(nobody) }),
        scoped: await call(`${url}/api/private-scoped`, { headers: bearer(reader) }),
      }
      expect(Object.fromEntries(Object.entries(answers).map(([k, a]) => [k, [a.status, a.json]]))).toEqual({
        public: [200, { message: 'This is a public message!' }],
        anonymous: [401, expect.objectContaining({ code: 'ERR_NO_TOKEN' })],
        protected: [200, { message: 'This is a protected message!', sub: 'alice' }],
        unscoped: [403, expect.objectContaining({ code: 'ERR_POLICY_SCOPE' })],
        scoped: [200, { message: 'You have read:messages.' }],
      })
    },
  )
})
