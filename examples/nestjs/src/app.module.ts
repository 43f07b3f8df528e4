import { Module } from '@nestjs/common'
import { optionsFromEnv } from 'gatehouse'
import { GatehouseModule } from 'gatehouse/nestjs'
import { ApiController } from './api.controller'
import { PostsController } from './posts.controller'
import { SeedController } from './seed.controller'

@Module({
  // Every route needs a valid token unless marked @Public() (seed 000: DRF's default IsAuthenticated).
  imports: [GatehouseModule.forRoot(optionsFromEnv())],
  controllers: [SeedController, ApiController, PostsController],
})
export class AppModule {}
