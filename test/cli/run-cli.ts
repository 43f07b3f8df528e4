/**
 * Running the built CLI (`node dist/cli/main.js`) as a child process, as a user would, with a clean
 * environment (no GATEHOUSE_* leaking in from the test runner) and a bounded wait.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { NODE_FLAGS } from '../../apps/reference-api/test/helpers/node-flags.js'

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" before the CLI tests`)
}

export interface RunOptions {
  env?: Record<string, string>
  cwd?: string
  input?: string
  timeoutMs?: number
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', ...extra }
}

/** Run to completion; rejects if it takes longer than `timeoutMs` (default 15 s). */
export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, CLI, ...args], {
      cwd: options.cwd,
      env: cleanEnv(options.env),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(
          `gatehouse ${args[0]} did not finish within ${options.timeoutMs ?? 15_000} ms\n${stdout}\n${stderr}`,
        ),
      )
    }, options.timeoutMs ?? 15_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

/** A long-running command (`gatehouse issuer`): wait for a line of output, then signal it. */
export interface Running {
  child: ChildProcess
  output(): string
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; output: string }>
}

export function startCli(args: string[], options: RunOptions = {}): Running {
  const child = spawn(process.execPath, [...NODE_FLAGS, CLI, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
  })
  let output = ''
  const listeners = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    output += chunk
    for (const listener of listeners) listener()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  return {
    child,
    output: () => output,
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern)
          if (match) {
            listeners.delete(check)
            clearTimeout(timer)
            resolve(match)
          }
        }
        const timer = setTimeout(() => {
          listeners.delete(check)
          reject(new Error(`no ${pattern} in output within ${timeoutMs} ms:\n${output}`))
        }, timeoutMs)
        listeners.add(check)
        child.on('close', () => {
          clearTimeout(timer)
          if (!output.match(pattern)) reject(new Error(`exited before ${pattern}:\n${output}`))
        })
        check()
      })
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      let timer: NodeJS.Timeout | undefined
      const code = await Promise.race([
        exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            child.kill('SIGKILL')
            reject(new Error(`did not exit within ${timeoutMs} ms after ${signal}`))
          }, timeoutMs)
        }),
      ])
      clearTimeout(timer)
      return { code, output }
    },
  }
}

/**
 * The characters of `text` a terminal would act on (C0 controls but the line feed, DEL, C1 controls,
 * bidi marks, embeddings, overrides and isolates), as code points: an empty list when it is safe to print.
 */
export function rawControls(text: string): string[] {
  const bidi = [
    0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
  ]
  return [...text]
    .map((c) => c.codePointAt(0)!)
    .filter((n) => (n < 0x20 && n !== 0x0a) || (n >= 0x7f && n <= 0x9f) || bidi.includes(n))
    .map((n) => `U+${n.toString(16).padStart(4, '0')}`)
}
