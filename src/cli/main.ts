#!/usr/bin/env node
/**
 * The `gatehouse` executable (package.json `bin`). Everything happens in run.ts; commands are registered
 * in registry.ts (one line each).
 */
import { processContext } from './context.js'
import { run } from './run.js'

process.exitCode = await run(process.argv.slice(2), processContext())
