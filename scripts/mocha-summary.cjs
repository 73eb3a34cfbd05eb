// Runs a configured Mocha instance and ends with the one line CI reads, "N passed, N failed, N skipped"
// (mocha's own "N passing" is not read). Exits 1 on any failure. Shared by the unit and webview runners.
'use strict';

function runWithSummary(mocha) {
  let passed = 0, failed = 0, skipped = 0;
  const runner = mocha.run(() => {
    console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
    process.exit(failed > 0 ? 1 : 0);
  });
  runner.on('pass', () => passed++);
  runner.on('fail', () => failed++);
  runner.on('pending', () => skipped++);
}

module.exports = { runWithSummary };
