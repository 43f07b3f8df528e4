/**
 * examples/mcp/README.md, "Try it": its commands run as written (the ports aside: the test picks free
 * ones), and each client prints what the README shows.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, type RunningProcess, startProcess } from '../contract/process.js'

const readme = readFileSync(new URL('../../examples/mcp/README.md', import.meta.url), 'utf8')
const section = readme.slice(readme.indexOf('## Try it'))
const commands = (/```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '').trim().split('\n')
const outputs = [...section.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1]!.trim().split('\n'))

interface Command {
  env: Record<string, string>
  args: string[]
}

/** `NAME=value … node file "an argument"`: the environment, then node's arguments. */
function parse(line: string): Command {
  const words = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!)
  const env: Record<string, string> = {}
  while (/^[A-Z_]+=/.test(words[0] ?? '')) {
    const [name, ...value] = words.shift()!.split('=')
    env[name!] = value.join('=')
  }
  expect(words.shift()).toBe('node')
  return { env, args: words }
}

/** Run a client to its end: its output lines (stdout and stderr, as they came) and exit code. */
function run(
  command: Command,
  env: Record<string, string>,
): Promise<{ lines: string[]; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, command.args, {
      cwd: ROOT,
      env: { ...process.env, ...command.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ lines: output.trim().split('\n'), code })
    })
  })
}

describe('examples/mcp/README.md: Try it', () => {
  const started: RunningProcess[] = []
  let issuerUrl: string
  let serverUrl: string

  it('has two servers to start and two clients to run, and the output of each client', () => {
    expect(commands).toHaveLength(4)
    expect(commands[0]).toBe('node examples/mcp/issuer.js')
    expect(commands[1]).toMatch(
      /^GATEHOUSE_ISSUER=http:\/\/127\.0\.0\.1:9000 node examples\/mcp\/server\.js$/,
    )
    expect(outputs).toHaveLength(2)
  })

  beforeAll(async () => {
    const issuer = parse(commands[0]!)
    started.push(
      await startProcess({ command: process.execPath, args: issuer.args, env: { ...issuer.env, PORT: '0' } }),
    )
    issuerUrl = started[0]!.url
    const server = parse(commands[1]!.replace('http://127.0.0.1:9000', issuerUrl))
    started.push(
      await startProcess({ command: process.execPath, args: server.args, env: { ...server.env, PORT: '0' } }),
    )
    serverUrl = started[1]!.url
  }, 60_000)
  afterAll(async () => {
    for (const process of started.reverse()) await process.stop()
  })

  it('the writer steps up to notes:write and writes the note', async () => {
    const { lines, code } = await run(parse(commands[2]!), { MCP_URL: `${serverUrl}/mcp`, ISSUER: issuerUrl })
    expect(lines).toEqual(outputs[0])
    expect(code).toBe(0)
  }, 40_000)

  it('the reader is refused notes:write by the issuer', async () => {
    const { lines, code } = await run(parse(commands[3]!), { MCP_URL: `${serverUrl}/mcp`, ISSUER: issuerUrl })
    expect(lines).toEqual(outputs[1])
    expect(code).toBe(1)
  }, 40_000)
})
