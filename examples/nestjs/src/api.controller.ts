import { Controller, Get } from '@nestjs/common'
import { Public, RequireScopes } from 'gatehouse/nestjs'

@Controller('api')
export class ApiController {
  @Public()
  @Get('public')
  public() {
    return { message: "Hello from a public endpoint! You don't need to be authenticated to see this." }
  }

  @Get('private')
  private() {
    return { message: 'Hello from a private endpoint! You need to be authenticated to see this.' }
  }

  @RequireScopes('read:messages')
  @Get('private-scoped')
  privateScoped() {
    return {
      message:
        'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
    }
  }
}
