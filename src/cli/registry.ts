/**
 * Every `gatehouse` command, by name. THE registration point: to add a command, write
 * `src/cli/commands/<name>.ts` exporting `command: Command` (see context.ts) and add one line here.
 * Modules are imported lazily, so `gatehouse token` does not load the code of `doctor`.
 */
import type { Command } from './context.js'

export const commands: Record<string, () => Promise<{ command: Command }>> = {
  start: () => import('./commands/start.js'),
  demo: () => import('./commands/demo.js'),
  issuer: () => import('./commands/issuer.js'),
  token: () => import('./commands/token.js'),
  proof: () => import('./commands/proof.js'),
  inspect: () => import('./commands/inspect.js'),
  doctor: () => import('./commands/doctor.js'),
}
