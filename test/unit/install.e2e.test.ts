// What a newcomer meets first: `npx protolab --help` must print no npm warning, and every dependency's
// install script must be decided in package.json's allowScripts (npm 11 blocks unreviewed ones and
// lists them after every install). The onnxruntime install setting once lived in .npmrc as a key npm 11
// does not know, so every npm/npx command began with "npm warn Unknown project config".
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../../..');

/** The environment of a user's shell: nothing an outer `npm test` exported (npm_config_*, …). */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  return env;
}

describe('install and first run (a newcomer\'s view)', function () {
  this.timeout(120000);

  it('`npx protolab --help` prints usage and no npm warning', () => {
    const r = spawnSync('npx', ['--no-install', 'protolab', '--help'], { cwd: ROOT, env: userEnv(), encoding: 'utf8' });
    assert.strictEqual(r.status, 0, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stdout, /protolab/i);
    assert.match(r.stdout, /eval/);
    const warnings = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /npm (warn|WARN)/.test(l));
    assert.deepStrictEqual(warnings, [], 'npx printed npm warnings');
  });

  it('every dependency install script is decided in allowScripts; onnxruntime-node\'s is denied', function () {
    // `npm install-scripts` exists from npm 11.19 on (older npm runs every script; see README)
    const v = spawnSync('npm', ['--version'], { env: userEnv(), encoding: 'utf8' }).stdout.trim().split('.').map(Number);
    if (v[0] < 11 || (v[0] === 11 && v[1] < 19)) this.skip();
    const r = spawnSync('npm', ['install-scripts', 'ls'], { cwd: ROOT, env: userEnv(), encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /No packages with unreviewed install scripts/, r.stdout);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
    // its script fetches CUDA provider libraries from outside the npm registry: no network here, and the
    // CPU provider ProtoLab uses ships inside the package
    assert.strictEqual(pkg.allowScripts?.['onnxruntime-node'], false);
    assert.ok(!fs.existsSync(path.join(ROOT, '.npmrc')) || !/onnxruntime-node-install/.test(fs.readFileSync(path.join(ROOT, '.npmrc'), 'utf8')),
      '.npmrc must not carry keys npm 11 warns about');
  });

  it('the tools install (node 24 + code-server) runs npm without the outer `npm run`\'s environment', () => {
    // code-server's postinstall read the OUTER npm's node version from npm_config_user_agent and refused
    // to install under node 24 when `npm test` started it; clean_npm_env is what every nested npm goes through
    const outer = { ...process.env, npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64', npm_lifecycle_event: 'test', INIT_CWD: ROOT };
    const r = spawnSync('bash', ['-c', '. scripts/ci/lib.sh && clean_npm_env env'], { cwd: ROOT, env: outer, encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const names = r.stdout.split('\n').map((l) => l.split('=')[0]);
    assert.ok(!names.includes('npm_config_user_agent') && !names.includes('npm_lifecycle_event') && !names.includes('INIT_CWD'), r.stdout);
    assert.ok(names.includes('PATH') && names.includes('npm_config_update_notifier'));
    const lib = fs.readFileSync(path.join(ROOT, 'scripts/ci/lib.sh'), 'utf8');
    for (const cmd of ['npm pack "$NODE24_SPEC"', 'npm install "$CODE_SERVER_SPEC"'])
      assert.match(lib, new RegExp(`clean_npm_env [^\\n]*${cmd.replace(/[$"]/g, (c) => `\\${c}`)}`), `${cmd} goes through clean_npm_env`);
  });
});
