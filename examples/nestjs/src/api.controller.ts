import { Controller, Get } from '@nestjs/common'
import type { AuthContext } from 'gatehouse'
import { Auth, Public, RequireScopes } from 'gatehouse/nestjs'

@Controller('api')
export class ApiController {
  @Public()
  @Get('public')
  public() {
    return { message: "Hello from a public endpoint! You don't need to be authenticated to see this." }
  }

  // How the token came (bearer or dpop) and, with DPoP, the proof key's thumbprint.
  @Get('private')
  private(@Auth() auth: AuthContext) {
    return {
      message: 'Hello from a private endpoint! You need to be authenticated to see this.',
      tokenType: auth.tokenType,
      jkt: auth.jkt,
    }
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
