#!/usr/bin/env node
// iocli entry point: run the command and exit with its code. Exiting explicitly stops lingering
// timers (e.g. web3.js confirmation loops) from holding the process open after the result is printed.
// CommonJS (bin/package.json), like the bundle it runs (dist/cli/, built by scripts/bundle-cli.mjs): a start-up without
// Node's ES module loader is ~15 % faster (README "Start-up").
const { run } = require('../dist/cli/main.cjs');

// `iocli leases | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

run(process.argv.slice(2)).then((code) => process.exit(code));
