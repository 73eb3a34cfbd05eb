// Entry the VS Code extension host calls (extensionTestsPath → out/test/integration/index.js): runs the
// mocha suite INSIDE the extension host. Under code-server the host's stdout is invisible, so the result
// goes to a JSON file the outside driver reads (scripts/ci/run-integration.cjs):
//   {suite, passed, failed, skipped, failures: [{title, error}], log}
// at $PROTOLAB_TEST_RESULT, else <extension root>/test-output/integration/result.json.
// @vscode/test-electron (npm run test:desktop) calls the same run().
import * as fs from 'fs';
import * as path from 'path';
import { format } from 'util';
import Mocha = require('mocha');

export function run(): Promise<void> {
  const root = path.resolve(__dirname, '../../..');
  const resultFile = process.env.PROTOLAB_TEST_RESULT || path.join(root, 'test-output/integration/result.json');
  const log: string[] = [];
  // PROTOLAB_TEST_GREP (inherited from code-server's environment) runs only the matching tests
  const grep = process.env.PROTOLAB_TEST_GREP || undefined;
  const mocha = new Mocha({ ui: 'bdd', timeout: 120000, color: false, reporter: 'spec', ...(grep ? { grep } : {}) });
  // Reporter output goes to stdout, which code-server hides: keep a copy for the result file.
  const base = (Mocha as unknown as { reporters: { Base: { consoleLog: (...a: unknown[]) => void } } }).reporters.Base;
  const orig = base.consoleLog;
  base.consoleLog = (...a: unknown[]) => {
    log.push(format(...a));
    orig(...a);
  };
  for (const f of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    let passed = 0, failed = 0, skipped = 0;
    const failures: Array<{ title: string; error: string }> = [];
    const runner = mocha.run(() => {
      base.consoleLog = orig;
      fs.mkdirSync(path.dirname(resultFile), { recursive: true });
      fs.writeFileSync(resultFile, JSON.stringify({ suite: 'integration', passed, failed, skipped, failures, log: log.join('\n') }, null, 2) + '\n');
      if (failed > 0) reject(new Error(`${failed} integration tests failed`));
      else resolve();
    });
    runner.on('pass', () => passed++);
    runner.on('pending', () => skipped++);
    runner.on('fail', (t, err: Error) => {
      failed++;
      failures.push({ title: t.fullTitle(), error: err?.stack ?? String(err) });
    });
  });
}
