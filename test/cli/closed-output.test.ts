/**
 * A reader that goes away (`gatehouse inspect … | head -1`) ends the command quietly: exit 0, no EPIPE
 * stack trace. Real pipes: the child's output is closed while it is still writing.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, CLI } from './run-cli.js'

let dir: string
let tokenFile: string
let token: string

/** An unsigned-looking JWT whose decoded claims print far more than a pipe buffer holds (64 KiB). */
function bigToken(): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const claims: Record<string, string> = {}
  for (let i = 0; i < 3000; i++) claims[`claim_${i}`] = 'v'.repeat(100)
  return `${part({ alg: 'RS256', kid: 'k' })}.${part(claims)}.c2lnbmF0dXJl`
}

beforeAll(async () => {
  assertBuilt()
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-pipe-'))
  tokenFile = join(dir, 'token.txt')
  token = bigToken()
  await writeFile(tokenFile, token)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Run the CLI with the token on stdin, close its stdout after the first chunk, and wait for the exit. */
function closeAfterFirstChunk(
  args: string[],
): Promise<{ code: number | null; stderr: string; chunks: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let chunks = 0
    let stderr = ''
    child.stdout.on('data', () => {
      chunks++
      child.stdout.destroy()
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`gatehouse ${args.join(' ')} did not exit within 30 s\n${stderr}`))
    }, 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stderr, chunks })
    })
    child.stdin.end(token)
  })
}

describe('the reader of the output goes away', () => {
  it.each([
    ['text', ['inspect', '-']],
    ['--json', ['inspect', '-', '--json']],
  ])(
    'inspect (%s): exit 0, nothing on stderr',
    async (_, args) => {
      const { code, stderr, chunks } = await closeAfterFirstChunk(args)
      expect(chunks).toBe(1)
      expect(stderr).toBe('')
      expect(code).toBe(0)
    },
    40_000,
  )

  it('inspect - < token | head -1: exit 0, no stack trace', async () => {
    const script = `"${process.execPath}" "${CLI}" inspect - < token.txt 2> stderr.txt | head -1; echo "exit=\${PIPESTATUS[0]}"; cat stderr.txt`
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        'bash',
        ['-c', script],
        { cwd: dir, timeout: 30_000, env: { PATH: process.env.PATH ?? '' } },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      )
    })
    expect(output).toBe('Decoded without verification: nothing below is trusted yet.\nexit=0\n')
  }, 40_000)
})
