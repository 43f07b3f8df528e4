/**
 * The dispatcher: `gatehouse <command> [options]`. Usage errors become one line that says what to do,
 * and exit code 2; anything else a command throws becomes one line and exit code 1 (no stack trace, and
 * never a token or a secret: commands put neither in their errors).
 */
import { readFileSync } from 'node:fs'
import { warnUnknownEnv } from '../core/config/env.js'
import { type CliContext, EXIT, UsageError } from './context.js'
import { commands } from './registry.js'

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0] !== undefined && rest[0] in commands) return run([rest[0], '--help'], ctx)
    ctx.out(await overview())
    return name === undefined ? EXIT.usage : EXIT.ok
  }
  if (name === '--version' || name === '-v') {
    ctx.out(version())
    return EXIT.ok
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (load === undefined) {
    const hint = name.startsWith('-') ? `unknown option ${name}` : `unknown command "${name}"`
    ctx.err(
      `gatehouse: ${hint}. Commands: ${Object.keys(commands).join(', ')}. Run "gatehouse --help" for details.`,
    )
    return EXIT.usage
  }
  const { command } = await load()
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.out(command.help)
    return EXIT.ok
  }
  // A misspelled GATEHOUSE_* variable would otherwise be ignored without a word (and `start` would
  // run the demo instead of the configured API): say so first, once.
  warnUnknownEnv(ctx.env, (message) => ctx.err(`gatehouse: warning: ${message}`))
  try {
    return await command.run(rest, ctx)
  } catch (error) {
    if (error instanceof UsageError) {
      ctx.err(`gatehouse ${name}: ${error.message}. Run "gatehouse ${name} --help" for usage.`)
      return EXIT.usage
    }
    ctx.err(`gatehouse ${name}: ${(error as Error)?.message ?? String(error)}`)
    return EXIT.failure
  }
}

async function overview(): Promise<string> {
  const lines = ['Usage: gatehouse <command> [options]', '', 'Commands:']
  const loaded = await Promise.all(Object.values(commands).map((load) => load()))
  const width = Math.max(...loaded.map(({ command }) => command.name.length))
  for (const { command } of loaded) lines.push(`  ${command.name.padEnd(width)}  ${command.summary}`)
  lines.push(
    '',
    'Run "gatehouse <command> --help" for its options. Exit codes: 0 ok, 1 check failed, 2 usage error.',
  )
  return lines.join('\n')
}

function version(): string {
  // src/cli/run.ts and dist/cli/run.js are both two folders below package.json.
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string
    }
    return `gatehouse ${pkg.version ?? 'unknown'}`
  } catch {
    return 'gatehouse (unknown version)'
  }
}
