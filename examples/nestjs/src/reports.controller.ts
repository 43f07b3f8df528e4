// Two levels, both must pass: the class lets anyone GET and needs write:reports to DELETE; each handler
// also needs admin.
import { Controller, Delete, Get, HttpCode } from '@nestjs/common'
import { Authorize, Claims, RequireScopes } from 'gatehouse/nestjs'

@Controller('api/reports')
@Authorize({ optional: ['GET'], methods: { DELETE: { scopes: 'write:reports' } } })
export class ReportsController {
  @RequireScopes('admin')
  @Get('admin')
  admin(@Claims('sub') sub: string) {
    return { admin: true, sub }
  }

  @RequireScopes('admin')
  @Delete('admin')
  @HttpCode(204)
  remove() {}
}
