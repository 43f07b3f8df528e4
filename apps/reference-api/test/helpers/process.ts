/**
 * A server as a child process: spawn it, wait (bounded) for its ready line, stop it with a signal and see
 * how it exits. Every GATEHOUSE_* variable of the parent is removed so only the test's settings count.
 * `stopStrays()` (in an `afterEach`) kills whatever a failed or timed-out test left running, so its port
 * and data folder do not outlive it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { NODE_FLAGS } from './node-flags.js'
import { STEP_MS } from './timeouts.js'

/** The reference API's ready line (start.ts) gives its URL, so PORT may be 0. */
export const READY = /reference API ready on (http:\/\/127\.0\.0\.1:\d+)/

export interface Spawned {
  child: ChildProcess
  /** Everything written so far. */
  stdout(): string
  stderr(): string
  /** Resolves with the exit code and signal (SIGKILLs after `ms`, then rejects). Default 30 s. */
  exit(ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Children that have not exited yet. */
const running = new Set<Spawned>()

/** SIGKILLs every child still running and waits until each has exited. */
export async function stopStrays(): Promise<void> {
  const strays = [...running]
  for (const spawned of strays) spawned.child.kill('SIGKILL')
  await Promise.all(strays.map((spawned) => spawned.exit(STEP_MS.exit).catch(() => {})))
}

export function spawnNode(args: string[], env: Record<string, string>, cwd: string): Spawned {
  const base: Record<string, string | undefined> = { ...process.env }
  for (const name of Object.keys(base))
    if (name.startsWith('GATEHOUSE_') || name === 'DATABASE_URL') delete base[name]
  const child = spawn(process.execPath, [...NODE_FLAGS, ...args], {
    cwd,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(spawned)
      resolve({ code, signal })
    })
  })
  const spawned: Spawned = {
    child,
    stdout: () => out,
    stderr: () => err,
    exit(ms = STEP_MS.exit) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL')
          reject(new Error(`${args.join(' ')} did not exit within ${ms} ms\n${out}\n${err}`))
        }, ms)
      })
      return Promise.race([exited, timeout]).finally(() => clearTimeout(timer))
    },
  }
  running.add(spawned)
  return spawned
}

/**
 * Wait until stdout matches `pattern`; returns the first capture group. Rejects on exit or after `ms`
 * (default: a first PGlite open under load, which is what a ready line waits for).
 */
export function waitFor(spawned: Spawned, pattern: RegExp, ms: number = STEP_MS.pgliteOpen): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(spawned.stdout())
      if (!match) return false
      done()
      resolve(match[1] ?? match[0])
      return true
    }
    const onExit = (code: number | null) => {
      if (check()) return
      done()
      reject(
        new Error(
          `exited (code ${code}) before printing ${pattern}\n${spawned.stdout()}\n${spawned.stderr()}`,
        ),
      )
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`no ${pattern} within ${ms} ms\n${spawned.stdout()}\n${spawned.stderr()}`))
    }, ms)
    const done = () => {
      clearTimeout(timer)
      spawned.child.stdout!.off('data', check)
      spawned.child.off('exit', onExit)
    }
    if (check()) return
    spawned.child.stdout!.on('data', check)
    spawned.child.once('exit', onExit)
  })
}

/** SIGTERM to every instance at once; each one's exit, by name (`{ code: 0, signal: null }` when clean). */
export async function stopAll(
  instances: Record<string, { proc: Spawned }>,
): Promise<Record<string, Awaited<ReturnType<Spawned['exit']>>>> {
  const exits = await Promise.all(
    Object.entries(instances).map(async ([name, { proc }]) => {
      proc.child.kill('SIGTERM')
      return [name, await proc.exit()] as const
    }),
  )
  return Object.fromEntries(exits)
}
