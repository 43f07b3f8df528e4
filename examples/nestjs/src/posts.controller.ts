// Anonymous reads, scoped writes, owner-only deletes.
import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common'
import { type AuthContext, assertOwner } from 'gatehouse'
import { Auth, Authorize } from 'gatehouse/nestjs'

@Controller('api/posts')
@Authorize({ optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } })
export class PostsController {
  @Get()
  list(@Auth() auth: AuthContext | null) {
    return auth === null ? { anonymous: true } : { anonymous: false, sub: auth.claims.sub }
  }

  @Post() // 201 by default in Nest
  create(@Auth() auth: AuthContext) {
    return { created: true, sub: auth.claims.sub }
  }

  @Delete(':owner')
  @HttpCode(204)
  remove(@Auth() auth: AuthContext, @Param('owner') owner: string) {
    assertOwner(auth, owner) // 403 ERR_POLICY_OWNER unless sub === :owner (rendered by GatehouseExceptionFilter)
  }
}
