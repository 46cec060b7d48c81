#!/usr/bin/env node
import { main } from '../dist/cli/main.js'

// A reader that stops early (`custodian ... | head -1`) closes the pipe: the rest of the output is not
// wanted, which is no failure. The command still finishes and exits with its own status.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error
})

process.exitCode = await main(process.argv.slice(2))
