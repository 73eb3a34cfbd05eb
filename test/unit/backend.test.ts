// selectBackend: the order tensorflow > webgpu > wasm > cpu, the reasons it gives, forcing one, and
// tfjs-node look-up from a user path (with fake packages, since libtensorflow cannot be installed here).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { useTestBackend, tf } from './helpers/tf';
import { selectBackend } from '../../src/engine/backend';
import { UsageError } from '../../src/engine/errors';

describe('selectBackend', () => {
  let dir: string;
  before(async () => {
    await useTestBackend('wasm');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backend-test-'));
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await useTestBackend('wasm'); // leave the shared test backend as the other tests expect it
  });

  it('with nothing better installed picks wasm (SIMD) and says why tensorflow and webgpu were passed over', async () => {
    const lines: string[] = [];
    const c = await selectBackend({ log: (l) => lines.push(l) });
    assert.strictEqual(c.name, 'wasm');
    assert.strictEqual(tf.getBackend(), 'wasm');
    assert.strictEqual(c.reason.length, 3);
    assert.match(c.reason[0], /^tensorflow: .*tfjs-node-gpu not installed.*tfjs-node not installed/);
    assert.match(c.reason[1], /^webgpu: not installed/);
    assert.match(c.reason[2], /^wasm: chosen \(SIMD on/);
    assert.match(lines[0], /tfjs backend: wasm/);
    assert.ok(lines.some((l) => /passed over tensorflow/.test(l)) && lines.some((l) => /passed over webgpu/.test(l)));
  });

  it('prefer forces a backend, and is an error when it cannot load', async () => {
    const c = await selectBackend({ prefer: 'cpu' });
    assert.strictEqual(c.name, 'cpu');
    assert.strictEqual(tf.getBackend(), 'cpu');
    await assert.rejects(selectBackend({ prefer: 'tensorflow' }), (e: unknown) => e instanceof UsageError && /tfjs-node/.test((e as Error).message));
    await assert.rejects(selectBackend({ prefer: 'webgpu' }), UsageError);
    await assert.rejects(selectBackend({ prefer: 'wasm', wasmDir: dir }), (e: unknown) => e instanceof UsageError && /no tfjs-backend-wasm-simd\.wasm/.test((e as Error).message));
    const w = await selectBackend({ prefer: 'wasm' });
    assert.strictEqual(w.name, 'wasm');
  });

  it('finds tfjs-node under a user path and reports a package that fails to load or does not register', async () => {
    // package directory form: the path is the package itself
    const broken = path.join(dir, 'broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'index.js' }));
    fs.writeFileSync(path.join(broken, 'index.js'), "throw new Error('libtensorflow.so.2: cannot open shared object file');");
    const a = await selectBackend({ tfjsNodePath: broken });
    assert.strictEqual(a.name, 'wasm');
    assert.match(a.reason[0], /tfjs-node found but failed to load \(libtensorflow\.so\.2/);
    // node_modules form: the path holds @tensorflow/tfjs-node-gpu, which loads but registers nothing
    const nm = path.join(dir, 'proj', 'node_modules');
    const pkg = path.join(nm, '@tensorflow', 'tfjs-node-gpu');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node-gpu', version: '4.22.0', main: 'index.js' }));
    fs.writeFileSync(path.join(pkg, 'index.js'), 'module.exports = {};');
    const b = await selectBackend({ tfjsNodePath: nm });
    assert.match(b.reason[0], /tfjs-node-gpu loaded but did not register/);
    // project directory form: the path holds node_modules/@tensorflow/...
    const p = await selectBackend({ tfjsNodePath: path.join(dir, 'proj') });
    assert.match(p.reason[0], /tfjs-node-gpu loaded but did not register/);
  });
});
