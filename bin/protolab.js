#!/usr/bin/env node
// `npx protolab …` — the engine CLI. Runs the compiled engine (npm run build writes out/).
'use strict';
const fs = require('fs');
const path = require('path');
const cli = path.join(__dirname, '..', 'out', 'src', 'engine', 'cli.js');
if (!fs.existsSync(cli)) {
  console.error('protolab: the engine is not built yet. Run `npm run build` in ' + path.dirname(__dirname));
  process.exit(2);
}
const debug = process.argv.includes('--debug');
// main() turns every error of a command into a message; these catch what escapes it (an error thrown in
// a callback, a rejected promise nobody awaited): an internal error, stack trace only with --debug.
const internal = (e) => {
  let msg;
  try {
    msg = require(path.join(__dirname, '..', 'out', 'src', 'engine', 'cli', 'internalError.js')).internalErrorMessage(e, debug);
  } catch {
    msg = 'internal error: ' + (e && e.message ? e.message : String(e)) + (debug && e && e.stack ? '\n\n' + e.stack : '');
  }
  console.error(msg);
  process.exit(70);
};
process.on('uncaughtException', internal);
process.on('unhandledRejection', internal);
require(cli).main(process.argv.slice(2)).then((code) => process.exit(code), internal);
