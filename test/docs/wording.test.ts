/**
 * What ships speaks of the project only: the published sources, their declarations, the reference API and
 * the docs name a rule by the standard behind it and a sample by what it is, never by a tracker's number.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url).pathname
const PROCESS_WORDS = /\bissues? #?\d+|\bseeds? \d{3}\b|\bseeds? \d{3}\/\d{3}/i

function filesUnder(dir: string, endings: readonly string[]): string[] {
  const found: string[] = []
  const pending = [join(root, dir)]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    let entries: string[]
    try {
      entries = readdirSync(next)
    } catch {
      continue // a folder that is not built yet
    }
    for (const name of entries) {
      if (name === 'node_modules') continue
      const path = join(next, name)
      if (statSync(path).isDirectory()) pending.push(path)
      else if (endings.some((ending) => name.endsWith(ending))) found.push(path)
    }
  }
  return found
}

/** `file:line: text` for every line that names a tracker item. */
function offences(files: readonly string[]): string[] {
  return files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) =>
        PROCESS_WORDS.test(line) ? [`${relative(root, file)}:${i + 1}: ${line.trim()}`] : [],
      ),
  )
}

describe('process words', () => {
  it('recognizes what it looks for', () => {
    expect(PROCESS_WORDS.test('the start-up contract (issue 3, §3)')).toBe(true)
    expect(PROCESS_WORDS.test('as seed 004 does')).toBe(true)
    expect(PROCESS_WORDS.test('the issuer 42 and its seeds of trust')).toBe(false)
  })

  it.each([
    ['src', ['.ts']],
    ['dist', ['.d.ts']],
    ['apps/reference-api/src', ['.ts']],
    ['examples', ['.ts', '.js']],
    ['docs', ['.md']],
    ['bench', ['.js']],
  ] as const)('none in %s', (dir, endings) => {
    expect(offences(filesUnder(dir, endings).filter((f) => !f.includes('/dist/') || dir === 'dist'))).toEqual(
      [],
    )
  })

  it('none in the README', () => {
    expect(offences([join(root, 'README.md')])).toEqual([])
  })
})
