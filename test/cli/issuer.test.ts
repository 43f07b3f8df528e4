/**
 * `gatehouse issuer` in the foreground: prints its URLs and the credentials file, serves, picks up
 * `gatehouse issuer rotate` run on its folder, and exits cleanly on SIGTERM / SIGINT.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createVerifier } from '../../src/core/verify/verifier.js'
import { assertBuilt, type Running, runCli, startCli } from './run-cli.js'

let dir: string
let running: Running | undefined

beforeAll(assertBuilt)
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-issuer-cli-'))
})
afterEach(async () => {
  await running?.stop('SIGKILL').catch(() => undefined)
  running = undefined
  await rm(dir, { recursive: true, force: true })
})

async function kids(jwksUri: string): Promise<string[]> {
  return ((await (await fetch(jwksUri)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid)
}

describe('gatehouse issuer', () => {
  it('serves, works with token and rotate on the same folder, and stops on SIGTERM with exit 0', async () => {
    running = startCli(['issuer', '--port', '0', '--data-dir', dir])
    await running.waitFor(/Press Ctrl\+C to stop/)
    const url = running.output().match(/issuer +(http:\/\/127\.0\.0\.1:\d+)/)![1]!
    expect(running.output()).toContain(`credentials     ${join(dir, 'clients.json')}`)
    expect(running.output()).toMatch(/for development only/)

    const metadata = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      string
    >
    expect(metadata.issuer).toBe(url)

    const minted = await runCli(['token', '--data-dir', dir])
    const verifier = createVerifier({ issuer: url, audience: 'https://api.gatehouse.local', discovery: true })
    try {
      expect((await verifier.verify(minted.stdout.trim())).claims.iss).toBe(url)
    } finally {
      verifier.close()
    }

    const [oldKid] = await kids(metadata.jwks_uri!)
    const rotated = await runCli(['issuer', 'rotate', '--data-dir', dir, '--grace', '10m'])
    expect(rotated.code).toBe(0)
    const newKid = rotated.stdout.match(/RS256: new signing key (\S+)/)![1]
    expect(rotated.stdout).toContain(`previous key ${oldKid} stays in the JWKS until`)
    expect(await kids(metadata.jwks_uri!)).toEqual([oldKid, newKid])

    const { code, output } = await running.stop('SIGTERM')
    expect(code).toBe(0)
    expect(output).toContain('Received SIGTERM, stopping.')
  })

  it('stops on SIGINT (Ctrl+C) with exit 0', async () => {
    running = startCli(['issuer', '--port', '0', '--data-dir', dir])
    await running.waitFor(/Press Ctrl\+C to stop/)
    const { code } = await running.stop('SIGINT')
    expect(code).toBe(0)
  })

  it('refuses a non-loopback address, saying why, exit 2', async () => {
    const { code, stderr } = await runCli(['issuer', '--host', '0.0.0.0', '--data-dir', dir])
    expect(code).toBe(2)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(/development tool.*--allow-non-loopback/)
  })

  it('a port in use is a failure with the reason, exit 1', async () => {
    running = startCli(['issuer', '--port', '0', '--data-dir', dir])
    await running.waitFor(/Press Ctrl\+C to stop/)
    const port = running.output().match(/issuer +http:\/\/127\.0\.0\.1:(\d+)/)![1]!
    const { code, stderr } = await runCli(['issuer', '--port', port, '--data-dir', dir])
    expect(code).toBe(1)
    expect(stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+.*EADDRINUSE/)
  })
})
