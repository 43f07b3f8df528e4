/**
 * What a CLI command gets from the outside world. Commands never touch `process` directly, so tests run
 * them in-process with a fake context, and the exit code is a return value, not a `process.exit`.
 */
import { printable } from './format.js'

/** Exit codes, documented in docs/cli.md. */
export const EXIT = {
  /** Done; for `inspect` and `doctor`: every check passed. */
  ok: 0,
  /** A check failed (invalid token, broken configuration) or the command could not do its work. */
  failure: 1,
  /** The command line is wrong: unknown command or option, missing argument, invalid value. */
  usage: 2,
} as const

export interface CliContext {
  /** Environment variables (GATEHOUSE_* configuration). */
  env: Record<string, string | undefined>
  /** Working directory, for relative paths such as the default data folder. */
  cwd: string
  /** Write one line (a newline is added) to standard output. */
  out(line: string): void
  /** Write one line to standard error. */
  err(line: string): void
  /** Whether output may use ANSI colours. */
  color: boolean
  /** Read all of standard input (for `gatehouse inspect -`). */
  readStdin(): Promise<string>
  /**
   * Resolves with the signal's name when the user asks the process to stop (SIGINT, SIGTERM). Long-running
   * commands (`issuer`, `start`, `demo`) await it, then clean up and return. Handlers are installed on the
   * first call only, so a short command stays killable by Ctrl+C as usual.
   */
  waitForShutdown(): Promise<string>
}

/** A wrong command line. `run` prints its message as one line and exits with {@link EXIT.usage}. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** A command module. Register it in src/cli/registry.ts. */
export interface Command {
  /** What the user types: `gatehouse <name>`. */
  name: string
  /** One line for `gatehouse --help`. */
  summary: string
  /** The full `gatehouse <name> --help` text. */
  help: string
  /** Run with the arguments after the command name; resolves with the exit code. Throws UsageError for bad input. */
  run(argv: string[], ctx: CliContext): Promise<number>
}

/** The context of this process, and whether the reader of its output went away. */
export interface ProcessContext extends CliContext {
  /** True once a write to stdout or stderr failed because nothing reads it any more (EPIPE). */
  readerGone(): boolean
}

/**
 * The real context of a process. Every line goes through {@link printable} (keeping line breaks and the
 * CLI's own colours): a control character that reached a message unescaped is still not acted on.
 *
 * A reader that goes away (`gatehouse inspect … | head -3`) is not an error: writing stops, a long-running
 * command stops as on a signal, and the process exits 0 without a stack trace.
 */
export function processContext(): ProcessContext {
  let shutdown: Promise<string> | undefined
  let wake: ((reason: string) => void) | undefined
  let stopReason: string | undefined
  let gone = false
  const requestStop = (reason: string) => {
    if (stopReason !== undefined) return
    stopReason = reason
    wake?.(reason)
  }
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error
      gone = true
      // Whatever the command returned (or will return), a closed pipe ends the run quietly.
      process.exitCode = EXIT.ok
      requestStop('SIGPIPE')
    })
  }
  const write = (stream: NodeJS.WriteStream, line: string) => {
    if (!gone) stream.write(`${printable(line, { newline: true, style: true })}\n`)
  }
  return {
    env: process.env,
    cwd: process.cwd(),
    out: (line) => write(process.stdout, line),
    err: (line) => write(process.stderr, line),
    color: Boolean(process.stdout.isTTY) && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb',
    async readStdin() {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString('utf8')
    },
    waitForShutdown() {
      shutdown ??= new Promise((resolve) => {
        if (stopReason !== undefined) return resolve(stopReason)
        const stop = (signal: string) => requestStop(signal)
        wake = (reason) => {
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
          resolve(reason)
        }
        process.on('SIGINT', stop)
        process.on('SIGTERM', stop)
      })
      return shutdown
    },
    readerGone: () => gone,
  }
}
