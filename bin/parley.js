#!/usr/bin/env node
// The installed `parley` command runs the compiled CLI. In a fresh checkout there is none yet:
// say what to run rather than fail with Node's ERR_MODULE_NOT_FOUND.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (existsSync(cli)) {
  await import(cli.href);
} else {
  process.stderr.write('parley: not built yet: run "npm run build" (or "npm start"), then again\n');
  process.exitCode = 1;
}
