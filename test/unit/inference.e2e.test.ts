// `protolab eval` with each inference engine, as a user runs it: the default picks onnxruntime and says
// so in the table and the JSON; where onnxruntime-node cannot be loaded (simulated by a preload that makes
// the module unresolvable, as on a platform the .vsix carries no binary for) the same command still
// evaluates, on tfjs, and says why; `--inference onnx` then fails with the reason instead.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BIN } from './helpers/cli';
import { writeSampleDataset } from '../../src/engine/data/sample';

describe('protolab eval --inference (CLI)', function () {
  this.timeout(300000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-inf-'));
  const hide = path.join(dir, 'no-onnxruntime.js');
  before(async () => {
    await writeSampleDataset({ out: path.join(dir, 'data'), seed: 2, images: { train: 4, val: 24 } });
    fs.writeFileSync(hide, `const M = require('module'); const r = M._resolveFilename;
M._resolveFilename = function (req, ...a) {
  if (req === 'onnxruntime-node') throw Object.assign(new Error("Cannot find module 'onnxruntime-node'"), { code: 'MODULE_NOT_FOUND' });
  return r.call(this, req, ...a);
};\n`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function evalWith(extra: string[], env: Record<string, string> = {}) {
    const json = path.join(dir, `r-${Math.random().toString(36).slice(2)}.json`);
    const r = spawnSync(process.execPath, [BIN, 'eval', '--data', path.join(dir, 'data'), '--fold', '0', '--episodes', '3', '--runs', '1',
      '--size', '64', '--backbone', 'mobilenetv2', '--cache-dir', path.join(dir, 'cache'), '--json', json, ...extra], {
      encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, result: fs.existsSync(json) ? JSON.parse(fs.readFileSync(json, 'utf8')) : undefined };
  }

  it('default: onnxruntime runs the encoder; the header and the JSON say so, with the model file built under --cache-dir', () => {
    const r = evalWith([]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(r.result.encoder.engine, 'onnx');
    assert.match(r.result.encoder.detail, /onnxruntime-node 1\.30\.0/);
    assert.match(r.stdout, /^encoder: onnx — onnxruntime-node/m);
    assert.ok(fs.readdirSync(path.join(dir, 'cache', 'onnx')).some((f) => f.startsWith(`mobilenetv2-${r.result.backbone.weightsHash}`)));
  });

  it('--inference tfjs: tfjs encodes, and the scores match the onnx run on the same episodes', () => {
    const a = evalWith([]);
    const b = evalWith(['--inference', 'tfjs']);
    assert.strictEqual(b.code, 0, b.stderr);
    assert.strictEqual(b.result.encoder.engine, 'tfjs');
    assert.match(b.result.encoder.reason.join(' '), /asked for \(--inference tfjs\)/);
    assert.ok(Math.abs(a.result.miou - b.result.miou) < 1e-3, `mIoU onnx ${a.result.miou} vs tfjs ${b.result.miou}`);
  });

  it('onnxruntime-node missing: auto falls back to tfjs, says why, exits 0; --inference onnx is an error naming the cause', () => {
    const r = evalWith([], { NODE_OPTIONS: `--require ${hide}` });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(r.result.encoder.engine, 'tfjs');
    assert.match(r.stderr, /onnxruntime could not be used \(onnxruntime-node is not installed for .*\); falling back to tfjs/);
    assert.match(r.result.encoder.reason.join(' '), /onnx: could not be used/);
    const e = evalWith(['--inference', 'onnx'], { NODE_OPTIONS: `--require ${hide}` });
    assert.strictEqual(e.code, 2);
    assert.match(e.stderr, /--inference onnx: onnxruntime-node is not installed/);
  });
});
