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
require(cli).main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
  },
);
