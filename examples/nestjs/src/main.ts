// Start-up: configuration from GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL and PORT (0 = any).
import 'reflect-metadata'
import type { AddressInfo } from 'node:net'
import { NestFactory } from '@nestjs/core'
import type { Gate } from 'gatehouse'
import { GATEHOUSE_GATE } from 'gatehouse/nestjs'
import { AppModule } from './app.module'

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'], forceCloseConnections: true })
  // A wrong issuer, metadata document or key set stops the start here, not at the first request.
  await app.get<Gate>(GATEHOUSE_GATE).warmUp()
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1')
  const address = app.getHttpServer().address() as AddressInfo
  console.log(`nestjs example listening on http://127.0.0.1:${address.port}`)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // app.close() runs onModuleDestroy: the module closes the gate it built.
      void app.close().finally(() => process.exit(0))
    })
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
