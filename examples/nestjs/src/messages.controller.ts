import { Controller, Get } from '@nestjs/common'
import { Claims, Public } from 'gatehouse/nestjs'

// No decorator: the global guard requires a valid token.
@Controller()
export class MessagesController {
  @Public()
  @Get('public')
  publicMessage() {
    return { message: 'This is a public message!' }
  }

  @Get('protected')
  protectedMessage(@Claims('sub') sub: string) {
    return { message: 'This is a protected message!', sub }
  }
}
