// Start-up: configuration from GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL and PORT (0 = any).
import 'reflect-metadata'
import { NestFactory } from '@nestjs/core'
import { AppModule } from './app.module'

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'], forceCloseConnections: true })
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1')
  const address = app.getHttpServer().address()
  console.log(`nestjs example listening on http://127.0.0.1:${address.port}`)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // app.close() runs onModuleDestroy: the module closes the gate it built.
      void app.close().finally(() => process.exit(0))
    })
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
