#!/usr/bin/env node
/**
 * The `gatehouse` executable (package.json `bin`). Everything happens in run.ts; commands are registered
 * in registry.ts (one line each).
 */
import { processContext } from './context.js'
import { run } from './run.js'

const ctx = processContext()
const code = await run(process.argv.slice(2), ctx)
// A reader that went away (`| head -1`) ends the run with 0, whatever the command concluded.
if (!ctx.readerGone()) process.exitCode = code
