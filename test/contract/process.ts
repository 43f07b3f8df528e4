/**
 * Start an example as a real child process and stop it: the contract suite talks to it over HTTP only.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The repository root: examples are started from here so `gatehouse` resolves to the built package. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The ready line every example logs once it listens (its URL is read from it, so PORT may be 0). */
export const READY_LINE = /listening on (http:\/\/127\.0\.0\.1:\d+)/

export interface RunningProcess {
  /** `http://127.0.0.1:{port}`, from the ready line. */
  url: string
  /** SIGTERM, then SIGKILL when it has not exited within `killAfterMs`. Resolves with how it exited. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export interface StartOptions {
  command: string
  args: readonly string[]
  /** Merged over the parent's environment, from which every GATEHOUSE_* variable is removed first. */
  env: Record<string, string>
  cwd?: string
  /** Time allowed until the ready line. Default 20 s (the machine is shared). */
  readyTimeoutMs?: number
  /** Time allowed after SIGTERM before SIGKILL. Default 3 s. */
  killAfterMs?: number
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const done = () => ({ code: child.exitCode, signal: child.signalCode })
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(done())
  return new Promise((resolve) => child.once('exit', () => resolve(done())))
}

/** Spawn `command`, wait (bounded) for the ready line on stdout, and return its URL and a stopper. */
export async function startProcess(options: StartOptions): Promise<RunningProcess> {
  const { readyTimeoutMs = 20_000, killAfterMs = 3_000 } = options
  const env: Record<string, string | undefined> = { ...process.env }
  for (const name of Object.keys(env)) if (name.startsWith('GATEHOUSE_')) delete env[name]
  const child = spawn(options.command, options.args, {
    cwd: options.cwd ?? ROOT,
    env: { ...env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // Kept (bounded) for the failure message: why an example did not start is in its output.
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000)
  }
  child.stderr!.on('data', keep)

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
    const how = await exited(child)
    clearTimeout(timer)
    return how
  }

  const url = await new Promise<string>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer)
      reject(new Error(`${options.args.join(' ')}: ${why}\n--- output ---\n${output}`))
    }
    const timer = setTimeout(() => fail(`no ready line within ${readyTimeoutMs} ms`), readyTimeoutMs)
    child.stdout!.on('data', (chunk: Buffer) => {
      keep(chunk)
      const match = READY_LINE.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    child.once('error', (error) => fail(`cannot start (${error.message})`))
    child.once('exit', (code, signal) => fail(`exited before it was ready (code ${code}, signal ${signal})`))
  }).catch(async (error: unknown) => {
    await stop()
    throw error
  })
  return { url, stop }
}
