#!/usr/bin/env node
// iocli entry point: run the command and exit with its code. Exiting explicitly stops lingering
// timers (e.g. web3.js confirmation loops) from holding the process open after the result is printed.
import { run } from '../dist/commands/main.js';

// `iocli leases | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exit(await run(process.argv.slice(2)));
