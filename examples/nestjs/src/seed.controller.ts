// Seed 000 (AuthAction's Django REST Framework example).
import { Controller, Get } from '@nestjs/common'
import { Claims, Public } from 'gatehouse/nestjs'

@Controller()
export class SeedController {
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
