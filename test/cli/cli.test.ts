/**
 * The dispatcher: help on every command, and one-line errors with exit code 2 for anything unknown
 * (docs/cli.md, "Exit codes").
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, runCli } from './run-cli.js'

beforeAll(assertBuilt)

describe('gatehouse', () => {
  it('--help lists the commands and exits 0', async () => {
    const { code, stdout } = await runCli(['--help'])
    expect(code).toBe(0)
    for (const name of ['issuer', 'token', 'inspect', 'doctor'])
      expect(stdout).toMatch(new RegExp(`^  ${name} `, 'm'))
  })

  it('no command prints the overview and exits 2', async () => {
    const { code, stdout } = await runCli([])
    expect(code).toBe(2)
    expect(stdout).toContain('Usage: gatehouse <command>')
  })

  it('an unknown command is one line on stderr, exit 2', async () => {
    const { code, stdout, stderr } = await runCli(['frobnicate'])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(/unknown command "frobnicate".*gatehouse --help/)
  })

  it('an unknown option is one line naming it, exit 2', async () => {
    const { code, stderr } = await runCli(['token', '--frob'])
    expect(code).toBe(2)
    expect(stderr.trim()).toBe(
      'gatehouse token: unknown option --frob. Run "gatehouse token --help" for usage.',
    )
  })

  it('a bad option value says what is expected, exit 2', async () => {
    const { code, stderr } = await runCli(['token', '--expires-in', 'soon'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/--expires-in must be a duration/)
  })

  it.each(['issuer', 'token', 'inspect', 'doctor'])('%s --help prints usage and exits 0', async (name) => {
    const { code, stdout } = await runCli([name, '--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(new RegExp(`^Usage: gatehouse ${name}`))
    expect(stdout).toContain('Exit codes')
  })

  it('warns once about a misspelled GATEHOUSE_* variable, naming the one meant', async () => {
    const { stderr } = await runCli(['inspect', 'opaque-token'], {
      env: { GATEHOUSE_ISUER: 'https://tenant.example.com/', GATEHOUSE_AUDIENCE: 'api' },
    })
    expect(stderr).toBe(
      'gatehouse: warning: GATEHOUSE_ISUER is not a variable Gatehouse reads, so it is ignored; ' +
        'did you mean GATEHOUSE_ISSUER?\n',
    )
  })

  it('the warning is not repeated when the command reads the environment itself', async () => {
    const { stderr } = await runCli(['inspect', 'opaque-token'], {
      env: { GATEHOUSE_ISSUER: 'https://tenant.example.com/', GATEHOUSE_AUDIANCE: 'api' },
    })
    expect(stderr.match(/GATEHOUSE_AUDIANCE/g)).toHaveLength(1)
    expect(stderr).toContain('did you mean GATEHOUSE_AUDIENCE?')
    expect(stderr).not.toContain('GatehouseWarning')
  })

  it('--version prints the package version', async () => {
    const { code, stdout } = await runCli(['--version'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^gatehouse \d+\.\d+\.\d+/)
  })
})
