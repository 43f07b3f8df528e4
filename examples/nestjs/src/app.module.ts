import { Module } from '@nestjs/common'
import { optionsFromEnv } from 'gatehouse'
import { GatehouseModule } from 'gatehouse/nestjs'
import { ApiController } from './api.controller'
import { MessagesController } from './messages.controller'
import { PostsController } from './posts.controller'
import { ReportsController } from './reports.controller'

@Module({
  imports: [
    // Every route needs a valid token unless marked @Public().
    GatehouseModule.forRoot({
      ...optionsFromEnv(), // GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL
      // Why a request was refused, for the server's log: code, status and what was checked. Never the token.
      onRejection: ({ error, method, path }) =>
        console.error(`refused ${method} ${path}: ${error.status} ${error.code}`),
    }),
  ],
  controllers: [MessagesController, ApiController, PostsController, ReportsController],
})
export class AppModule {}
