// Bad checkpoints, cut from a real one trained here (1 step, frozen MobileNetV2, MetaSegNet head):
// truncated files, headers that lie about offsets, wrong shapes, another method or backbone in the config,
// broken run folders. eval --checkpoint, train --init/--resume and the engine refuse each naming the file.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { readSafetensors, writeSafetensorsBytes } from './helpers/bytes';
import { runCli, show, type CliRun } from './helpers/cliInProcess';
import { engineRefuses, engineStillAlive } from './helpers/engine';
import { pristine, TMP, type Fixture } from './helpers/fixtures';
import { countInput } from './helpers/tally';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const line = (r: CliRun, file: string, problem: RegExp) => `${r.out}\n${r.err}`.split('\n').some((l) => l.includes(file) && problem.test(l));

describe('corpus: bad checkpoints and run folders', function () {
  this.timeout(300000);
  let f: Fixture;
  let run: string;
  let ckpt: string;
  let bytes: Buffer;
  let n = 0;

  before(async () => {
    f = await pristine();
    run = path.join(TMP, 'ckpt-run');
    const t = await runCli(['train', '--data', f.root, '--fold', '0', '--ways', '1', '--shots', '1', '--steps', '1', '--size', '32', '--method', 'metasegnet',
      '--freeze-backbone', '--backbone', 'mobilenetv2', '--backend', 'wasm', '--val-every', '0', '--out', run]);
    assert.ok(!t.threw && t.code === 0, show(t));
    ckpt = path.join(run, 'checkpoints', 'step-000001.safetensors');
    bytes = fs.readFileSync(ckpt);
  });

  /** A copy of the checkpoint with `mutate` applied to its bytes. */
  const variant = (name: string, b: Buffer): string => {
    const file = path.join(TMP, 'ckpts', `${++n}-${name}.safetensors`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, b);
    return file;
  };
  const withHeader = (edit: (h: Record<string, any>, data: Buffer) => Buffer | void): Buffer => {
    const { header, data } = readSafetensors(bytes);
    const out = edit(header, data);
    return writeSafetensorsBytes(header, out ?? data);
  };
  const headEntries = (h: Record<string, any>) => Object.keys(h).filter((k) => k.startsWith('head.')).sort((a, b) => h[a].data_offsets[0] - h[b].data_offsets[0]);
  const meta = (h: Record<string, any>) => JSON.parse(h.__metadata__.config);
  const setMeta = (h: Record<string, any>, m: unknown) => { h.__metadata__.config = JSON.stringify(m); };

  /** initOk: train --init accepts it by design and says so (another method's checkpoint: its head is not used) */
  const cases: Array<{ name: string; bytes: () => Buffer; problem: RegExp; initOk?: RegExp }> = [
    { name: 'zero-byte checkpoint', bytes: () => Buffer.alloc(0), problem: /not a safetensors file: 0 bytes, shorter than the 8-byte header length/ },
    { name: 'cut inside the header', bytes: () => bytes.subarray(0, 40), problem: /safetensors header length \d+ does not fit in the file \(40 bytes\)/ },
    { name: 'cut inside the data', bytes: () => bytes.subarray(0, Math.floor(bytes.length * 0.7)), problem: /safetensors entry '\S+': data_offsets \[\d+, \d+\] fall outside the \d+-byte data section/ },
    { name: 'header that is not JSON', bytes: () => { const b = Buffer.from(bytes); b[9] = 0x7b; b[10] = 0x7b; return b; }, problem: /safetensors header is not valid JSON/ },
    {
      name: 'header whose offsets overlap',
      bytes: () => withHeader((h) => { const k = headEntries(h)[1]; h[k].data_offsets = h[k].data_offsets.map((o: number) => o - 4); }),
      problem: /safetensors entries '\S+' and '\S+' overlap \(bytes \d+–\d+\): the header's data_offsets are corrupt/,
    },
    {
      name: 'header that leaves bytes to no tensor',
      bytes: () => withHeader((h, data) => {
        const last = Object.keys(h).filter((k) => k !== '__metadata__').sort((a, b) => h[b].data_offsets[0] - h[a].data_offsets[0])[0];
        const [b0, e0] = h[last].data_offsets;
        h[last].data_offsets = [b0 + 8, e0 + 8];
        return Buffer.concat([data.subarray(0, b0), Buffer.alloc(8), data.subarray(b0)]);
      }),
      problem: /safetensors data bytes \d+–\d+ belong to no tensor \(before '\S+'\)/,
    },
    { name: 'bytes appended after the last tensor', bytes: () => Buffer.concat([bytes, Buffer.alloc(16)]), problem: /safetensors data section has 16 byte\(s\) after its last tensor/ },
    {
      name: 'a tensor of the wrong shape',
      bytes: () => withHeader((h) => { const k = headEntries(h).find((x) => h[x].shape.length === 2 && h[x].shape[0] !== h[x].shape[1])!; h[k].shape = [...h[k].shape].reverse(); }),
      problem: /tensor 'head\.\S+' has shape \[\d+,\d+\], expected \[\d+,\d+\]/,
    },
    {
      name: 'a checkpoint of another method (config says pixelmeta)',
      bytes: () => withHeader((h) => setMeta(h, { ...meta(h), method: 'pixelmeta', methodConfig: {} })),
      problem: /checkpoint has no tensor 'head\.\S+'/,
      initOk: /a pixelmeta checkpoint; the metasegnet head starts from its own initialisation/,
    },
    {
      name: 'a checkpoint of an unknown method',
      bytes: () => withHeader((h) => setMeta(h, { ...meta(h), method: 'foonet' })),
      problem: /checkpoint of method 'foonet', which this ProtoLab does not know/,
    },
    {
      name: 'a checkpoint of an unknown backbone',
      bytes: () => withHeader((h) => setMeta(h, { ...meta(h), backbone: 'resnet50' })),
      problem: /checkpoint of backbone 'resnet50', which this ProtoLab does not know/,
    },
    {
      name: 'a checkpoint that claims a vgg16 backbone it does not hold',
      bytes: () => withHeader((h) => setMeta(h, { ...meta(h), backbone: 'vgg16' })),
      problem: /missing tensor '\S*conv1_1\.weight'/,
    },
    {
      name: 'method settings of the wrong kind',
      bytes: () => withHeader((h) => setMeta(h, { ...meta(h), methodConfig: 'fast' })),
      problem: /"methodConfig" is not an object/,
    },
    { name: 'a plain safetensors file (no ProtoLab config)', bytes: () => withHeader((h) => { delete h.__metadata__; }), problem: /not a ProtoLab checkpoint/ },
  ];

  for (const c of cases) {
    it(`checkpoint: ${c.name}`, async () => {
      const file = variant(c.name.replace(/[^a-z0-9]+/gi, '-'), c.bytes());
      const e = await runCli(['eval', '--data', f.root, '--fold', '0', '--episodes', '2', '--runs', '1', '--checkpoint', file, '--workers', '0', '--backend', 'wasm']);
      assert.ok(!e.threw && e.code === 1 && line(e, file, c.problem), show(e));
      const out = path.join(TMP, 'init-runs', String(n));
      const t = await runCli(['train', '--data', f.root, '--fold', '0', '--ways', '1', '--shots', '1', '--steps', '1', '--size', '32', '--method', 'metasegnet',
        '--freeze-backbone', '--backbone', 'mobilenetv2', '--backend', 'wasm', '--val-every', '0', '--init', file, '--out', out]);
      if (c.initOk) {
        assert.ok(!t.threw && t.code === 0 && line(t, file, c.initOk), show(t));
      } else {
        // --init reads the config first; a config that is fine but does not fit the run is its own message
        assert.ok(!t.threw && t.code === 1 && line(t, file, /./), show(t));
        assert.ok(!fs.existsSync(path.join(out, 'checkpoints')), 'nothing trained from a bad --init');
      }
      const er = await engineRefuses({ type: 'evaluate', params: { set: { data: f.root, dataset: 'voc', split: 'panet', fold: 0, ways: 1, shots: 1, seed: 1234, list: 'val' }, model: { checkpoint: file, size: 32 }, episodes: 2, runs: 1, annotation: 'dense' } });
      assert.strictEqual(er.kind, 'data', er.message);
      assert.strictEqual(er.file, file);
      assert.match(er.message, c.problem);
      countInput('checkpoint', 3);
    });
  }

  it('checkpoint: a mobilenetv2 checkpoint given as VGG-16 --weights', async () => {
    const e = await runCli(['eval', '--data', f.root, '--fold', '0', '--episodes', '2', '--runs', '1', '--backbone', 'vgg16', '--weights', ckpt, '--size', '32', '--workers', '0', '--backend', 'wasm']);
    assert.ok(!e.threw && e.code === 1 && line(e, ckpt, /ProtoLab checkpoint is for backbone 'mobilenetv2', not vgg16/), show(e));
    countInput('checkpoint', 1);
  });

  /** A copy of the run folder, broken by `edit`; train --resume and eval --checkpoint RUNDIR refuse it. */
  async function brokenRun(name: string, edit: (dir: string) => void, file: (dir: string) => string, problem: RegExp): Promise<void> {
    const dir = path.join(TMP, 'runs', name);
    fs.cpSync(run, dir, { recursive: true });
    edit(dir);
    const r = await runCli(['train', '--resume', dir, '--backend', 'wasm']);
    assert.ok(!r.threw && r.code === 1 && line(r, file(dir), problem), show(r));
    const e = await runCli(['eval', '--data', f.root, '--fold', '0', '--episodes', '2', '--runs', '1', '--checkpoint', dir, '--workers', '0', '--backend', 'wasm']);
    if (!/config\.json/.test(file(dir))) assert.ok(!e.threw && e.code === 1 && line(e, file(dir), problem), show(e));
    countInput('checkpoint', 2);
  }

  it('run folder: latest.json empty, latest.json naming a missing checkpoint, config.json missing, a checkpoint of another method', async () => {
    await brokenRun('empty-latest', (d) => fs.writeFileSync(path.join(d, 'latest.json'), ''), (d) => path.join(d, 'latest.json'), /not valid JSON/);
    await brokenRun('dangling-latest', (d) => fs.rmSync(path.join(d, 'checkpoints', 'step-000001.safetensors')), (d) => path.join(d, 'latest.json'),
      /names \S+step-000001\.safetensors, which does not exist/);
    const dir = path.join(TMP, 'runs', 'no-config');
    fs.cpSync(run, dir, { recursive: true });
    fs.rmSync(path.join(dir, 'config.json'));
    const r = await runCli(['train', '--resume', dir, '--data', f.root, '--backend', 'wasm']);
    assert.ok(!r.threw && r.code === 1 && line(r, dir, /not a training run \(no config\.json\)/), show(r));
    await brokenRun('other-method', (d) => {
      const file = path.join(d, 'checkpoints', 'step-000001.safetensors');
      const { header, data } = readSafetensors(fs.readFileSync(file));
      header.__metadata__.config = JSON.stringify({ ...JSON.parse(header.__metadata__.config), method: 'pixelmeta' });
      fs.writeFileSync(file, writeSafetensorsBytes(header, data));
    }, (d) => path.join(d, 'checkpoints', 'step-000001.safetensors'), new RegExp(`checkpoint of method 'pixelmeta', the run trains 'metasegnet'|${esc("checkpoint has no tensor 'head.")}`));
    countInput('checkpoint', 1);
  });

  it('the engine process that got every case above is the one still serving', async () => {
    assert.ok(await engineStillAlive());
  });
});
