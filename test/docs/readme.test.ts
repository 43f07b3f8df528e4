/**
 * Every README code block marked `<!-- readme-snippet: FILE -->` is copied from FILE, which the tests run:
 * each line of the block must appear in FILE, in the same order. A README that drifts from the tested
 * examples fails here.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { GatehouseError } from '../../src/core/errors.js'
import { type AccessRule, type AuthContext, compileRule } from '../../src/core/policy/index.js'

const root = new URL('../../', import.meta.url)
const readme = readFileSync(new URL('README.md', root), 'utf8')
const snippets = [...readme.matchAll(/<!-- readme-snippet: (\S+) -->\n```\w*\n([\s\S]*?)```/g)].map((m) => ({
  file: m[1] as string,
  lines: (m[2] as string).split('\n').filter((line) => line.trim() !== ''),
}))

describe('README snippets', () => {
  it('finds the snippets', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(6)
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
