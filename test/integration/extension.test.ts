// Runs INSIDE a VS Code extension host (code-server here, @vscode/test-electron on desktops): activates
// ProtoLab, writes the sample dataset through its command, reads the tree views through the exported
// test API, runs a tiny evaluation and checks its report files, opens and compares reports, restarts
// the engine and survives an engine crash.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ProtoLabApi } from '../../src/extension/extension';
import { toMetricsRows } from '../../src/extension/jobs';

const EXT_ID = 'protolab.protolab';
const waitFor = async <T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 60000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

/** A header-only safetensors file (8-byte little-endian header length + JSON). */
function writeSafetensors(file: string, metadata?: Record<string, string>): void {
  const header = Buffer.from(JSON.stringify(metadata ? { __metadata__: metadata } : {}), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.concat([len, header]));
}

describe('ProtoLab in a VS Code extension host', function () {
  this.timeout(300000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-int-'));
  const sample = path.join(tmp, 'sample');
  let api: ProtoLabApi;
  const cfg = () => vscode.workspace.getConfiguration('protolab');
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  let saved: { datasets: unknown; checkpointPaths: unknown };

  before(async () => {
    const ext = vscode.extensions.getExtension<ProtoLabApi>(EXT_ID);
    assert.ok(ext, `extension ${EXT_ID} is installed`);
    api = await ext.activate();
    saved = { datasets: cfg().inspect('datasets'), checkpointPaths: cfg().inspect('checkpointPaths') };
    await cfg().update('datasets', [], target);
    await cfg().update('checkpointPaths', [path.join(tmp, 'ckpts')], target);
  });

  after(async () => {
    for (const p of api?.panels() ?? []) p.panel.dispose();
    const restore = (k: string, i: unknown) => cfg().update(k, (i as { workspaceValue?: unknown; globalValue?: unknown } | undefined)?.[target === vscode.ConfigurationTarget.Workspace ? 'workspaceValue' : 'globalValue'], target);
    await restore('datasets', saved?.datasets);
    await restore('checkpointPaths', saved?.checkpointPaths);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('contributes its commands and views and exports the test API', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    const pkg = vscode.extensions.getExtension(EXT_ID)!.packageJSON as {
      contributes: { commands: Array<{ command: string; title: string; category?: string }>; menus: Record<string, Array<{ command: string; when?: string; group?: string }>> };
    };
    for (const c of pkg.contributes.commands) assert.ok(all.has(c.command), `${c.command} is registered`);
    // the palette entry a user is told to run, and right-click → Evaluate on a checkpoint
    const open = pkg.contributes.commands.find((c) => c.command === 'protolab.open');
    assert.strictEqual(`${open?.category}: ${open?.title}`, 'ProtoLab: Open');
    assert.ok(pkg.contributes.menus['view/item/context'].some((m) => m.command === 'protolab.evaluate' && /viewItem == protolab\.checkpoint\b/.test(m.when ?? '') && m.group !== 'inline'),
      'a checkpoint\'s context menu has Evaluate');
    assert.ok(api.trees.datasets && api.trees.checkpoints && api.trees.runs);
    assert.deepStrictEqual(await api.trees.datasets.getChildren(), [], 'no datasets configured yet');
  });

  it('the engine process answers hello with a backend', async () => {
    const h = await api.engine.start();
    assert.strictEqual(h.protocol, 1);
    assert.ok(['wasm', 'cpu', 'tensorflow', 'webgpu'].includes(h.backend), h.backend);
    assert.ok(api.engine.pid && api.engine.pid !== process.pid, 'the engine runs in its own process');
  });

  it('Create Sample Dataset writes it and the Datasets view lists it with its four folds', async () => {
    const out = await vscode.commands.executeCommand<string>('protolab.createSampleDataset', { out: sample, train: 10, val: 24 });
    assert.strictEqual(out, sample);
    assert.ok(fs.existsSync(path.join(sample, 'VOCdevkit', 'VOC2012', 'JPEGImages')));
    const roots = await waitFor('datasets in the tree', async () => {
      const r = await api.trees.datasets.getChildren();
      return r.length >= 2 ? r : undefined;
    });
    const labels = roots.map((n) => api.trees.datasets.getTreeItem(n).label);
    assert.deepStrictEqual(labels, ['sample (VOC)', 'sample (COCO)']);
    const folds = await api.trees.datasets.getChildren(roots[0]);
    assert.strictEqual(folds.length, 4);
    const f0 = api.trees.datasets.getTreeItem(folds[0]);
    assert.strictEqual(f0.label, 'fold 0');
    assert.strictEqual(f0.contextValue, 'protolab.fold');
    // the sample's VOC export names its classes (class_names.txt): fold 0 starts with class 1
    assert.match(String(f0.description), /stripes-disc/);
    const coco = await api.trees.datasets.getChildren(roots[1]);
    assert.strictEqual(coco.length, 4, 'the COCO copy opens too');
  });

  it('Evaluate runs a tiny evaluation, saves the report + records, and opens the report', async () => {
    const voc = (await api.trees.datasets.getChildren())[0];
    const ds = (voc as { ds: { path: string } }).ds.path;
    const file = await vscode.commands.executeCommand<string>('protolab.evaluate', { dataset: ds, fold: 0, episodes: 4, runs: 1 });
    assert.ok(file && fs.existsSync(file), `report written: ${file}`);
    assert.strictEqual(api.lastReportPath, file);
    const report = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.strictEqual(report.kind, 'few-shot-eval');
    assert.strictEqual(report.settings.fold, 0);
    assert.strictEqual(report.episodesScored, 4);
    assert.ok(report.miou >= 0 && report.miou <= 1);
    const records = fs.readFileSync(file.replace(/\.json$/, '.records.jsonl'), 'utf8').trim().split('\n');
    assert.strictEqual(records.length, 4);
    const panel = await waitFor('the report panel', () => api.panels().find((p) => p.view === 'report'));
    assert.strictEqual(panel.reports[0].path, file);
  });

  it('two reports open side by side and compare in one panel', async () => {
    const a = api.lastReportPath!;
    const voc = (await api.trees.datasets.getChildren())[0] as { ds: { path: string } };
    const b = await vscode.commands.executeCommand<string>('protolab.evaluate', { dataset: voc.ds.path, fold: 1, episodes: 3, runs: 1 });
    assert.ok(b && b !== a);
    assert.strictEqual(api.panels().filter((p) => p.view === 'report').length, 2);
    await vscode.commands.executeCommand('protolab.compareReports', a, b);
    const cmp = await waitFor('the compare panel', () => api.panels().find((p) => p.view === 'compare'));
    assert.deepStrictEqual(cmp.reports.map((r) => r.path), [a, b]);
    await vscode.commands.executeCommand('protolab.openFailures', a);
    assert.ok(api.panels().some((p) => p.view === 'failures'));
  });

  it('the episode browser webview loads and completes the ready handshake', async function () {
    if (!fs.existsSync(path.join(vscode.extensions.getExtension(EXT_ID)!.extensionPath, 'dist', 'webview', 'main.js'))) this.skip();
    await vscode.commands.executeCommand('protolab.open');
    const p = await waitFor('the episodes panel', () => api.panels().find((x) => x.view === 'episodes'));
    p.panel.reveal();
    await waitFor('the webview ready handshake', () => p.webview.isReady, 90000).catch((e) => {
      throw new Error(`${(e as Error).message} (visible ${p.panel.visible}, active ${p.panel.active}, messages received ${p.webview.received}, rejected ${p.webview.rejected})`);
    });
    assert.strictEqual(p.webview.rejected, 0, 'no invalid messages from the webview');
  });

  it('Checkpoints and Runs views list safetensors files and training runs', async () => {
    const dir = path.join(tmp, 'ckpts');
    writeSafetensors(path.join(dir, 'vgg16-weights.safetensors'));
    const run = path.join(dir, 'run-a');
    writeSafetensors(path.join(run, 'checkpoints', 'step-000002.safetensors'), { format: 'protolab-checkpoint', version: '1', config: JSON.stringify({ backbone: 'mobilenetv2', method: 'panet', step: 2 }) });
    fs.writeFileSync(path.join(run, 'config.json'), JSON.stringify({ method: 'panet', fold: 0, ways: 1, shots: 1, steps: 2 }));
    fs.writeFileSync(path.join(run, 'metrics.jsonl'), ['{"kind":"train","step":1,"loss":0.9,"parts":{},"lr":0.001,"ms":5,"episode":"r0e0"}', '{"kind":"train","step":2,"loss":0.7,"parts":{},"lr":0.001,"ms":5,"episode":"r0e1"}', '{"kind":"val","step":2,"miou":0.25,"fbiou":0.5,"episodes":4,"ms":9}'].join('\n') + '\n');
    fs.writeFileSync(path.join(run, 'latest.json'), JSON.stringify({ step: 2, checkpoint: 'checkpoints/step-000002.safetensors' }));
    // a weakly supervised run (config.json as the engine writes it: { config, data })
    const weak = path.join(dir, 'run-w');
    fs.mkdirSync(weak, { recursive: true });
    fs.writeFileSync(path.join(weak, 'config.json'), JSON.stringify({ config: { method: 'pixelmeta', supervision: 'image-labels', fold: 0, ways: 1, shots: 1, steps: 1 }, data: {} }));
    fs.writeFileSync(path.join(weak, 'metrics.jsonl'), '{"kind":"train","step":1,"loss":0.69,"parts":{"meta":0.69},"lr":0.001,"ms":5,"episode":"r0e0"}\n');
    // a run the engine stopped because its loss diverged at step 3 (its last good checkpoint: step 1)
    const bad = path.join(dir, 'run-d');
    writeSafetensors(path.join(bad, 'checkpoints', 'step-000001.safetensors'), { format: 'protolab-checkpoint', version: '1', config: JSON.stringify({ backbone: 'vgg16', method: 'metasegnet', step: 1 }) });
    fs.writeFileSync(path.join(bad, 'config.json'), JSON.stringify({ config: { method: 'metasegnet', fold: 0, ways: 1, shots: 1, steps: 20 }, data: {} }));
    fs.writeFileSync(path.join(bad, 'metrics.jsonl'), [
      '{"kind":"train","step":1,"loss":5.2,"parts":{"seg":5.2},"lr":0.001,"ms":5,"episode":"r0e0"}',
      '{"kind":"train","step":2,"loss":2.7,"parts":{"seg":2.7},"lr":0.001,"ms":5,"episode":"r0e1"}',
      '{"kind":"diverged","step":3,"loss":28,"reason":"the loss exploded (episode r0e2)","checkpoint":"checkpoints/step-000001.safetensors","checkpointStep":1}',
    ].join('\n') + '\n');
    fs.writeFileSync(path.join(bad, 'latest.json'), JSON.stringify({ step: 1, checkpoint: 'checkpoints/step-000001.safetensors' }));
    await vscode.commands.executeCommand('protolab.refresh');
    const top = await api.trees.checkpoints.getChildren();
    const items = top.map((n) => api.trees.checkpoints.getTreeItem(n));
    const weights = items.find((i) => i.label === 'vgg16-weights.safetensors');
    assert.ok(weights, `weights listed: ${items.map((i) => i.label).join(', ')}`);
    assert.strictEqual(weights.description, 'backbone weights');
    assert.strictEqual(weights.contextValue, 'protolab.checkpoint');
    // other runs may exist in the workspace (the e2e drive trains one): pick this test's own
    const group = top.find((n) => n.type === 'runGroup' && path.resolve(n.run.dir) === path.resolve(run));
    assert.ok(group, 'run-a listed under Checkpoints');
    const inRun = (await api.trees.checkpoints.getChildren(group)).map((n) => api.trees.checkpoints.getTreeItem(n));
    assert.match(String(inRun[0].description), /ProtoLab panet mobilenetv2 · step 2/);
    const runs = (await api.trees.runs.getChildren()).map((n) => api.trees.runs.getTreeItem(n));
    const r = runs.find((i) => i.label === 'run-a');
    assert.ok(r, 'run listed');
    assert.match(String(r.description), /completed · 2\/2 · val mIoU 25\.0/);
    assert.doesNotMatch(String(r.description), /image labels/);
    const w = runs.find((i) => i.label === 'run-w');
    assert.ok(w, 'weak run listed');
    assert.match(String(w.description), /completed · 1\/1 · image labels/);
    assert.match(String(w.tooltip), /weakly supervised/);
    const d = runs.find((i) => i.label === 'run-d');
    assert.ok(d, 'diverged run listed');
    assert.match(String(d.description), /^diverged at step 3 · 2\/20/);
    assert.match(String(d.tooltip), /the loss diverged at step 3: the loss exploded/);
    assert.match(String(d.tooltip), /step-000001\.safetensors \(the last good one\)/);
    assert.strictEqual((d.iconPath as vscode.ThemeIcon).id, 'error');
  });

  it('training metrics rows for the runs chart keep every loss part (PixelMeta: meta)', () => {
    const rows = toMetricsRows([
      { kind: 'train', step: 1, loss: 0.69, parts: { meta: 0.69 }, lr: 0.001, ms: 5 },
      { kind: 'train', step: 2, loss: 0.9, parts: { seg: 0.7, par: 0.2 }, lr: 0.001, ms: 5 },
    ]);
    assert.deepStrictEqual(rows.map((r) => [r.meta, r.seg, r.par]), [[0.69, undefined, undefined], [undefined, 0.7, 0.2]]);
  });

  it('a diverged run\'s metrics end with a marker row at the diverged step (at the last finite loss when it was NaN)', () => {
    const rows = toMetricsRows([
      { kind: 'train', step: 1, loss: 0.69, parts: {} },
      { kind: 'diverged', step: 2, loss: null, reason: 'the loss is NaN (episode r0e1)' },
    ]);
    assert.deepStrictEqual(rows[1], { step: 2, loss: 0.69, divergedLoss: 0.69, diverged: 'the loss is NaN (episode r0e1)' });
    assert.strictEqual(toMetricsRows([{ kind: 'train', step: 1, loss: 1 }, { kind: 'diverged', step: 2, loss: 40, reason: 'x' }])[1].divergedLoss, 40);
  });

  it('Start Training opens the runs dashboard in a trusted workspace', async () => {
    if (!vscode.workspace.isTrusted) return;
    await vscode.commands.executeCommand('protolab.startTraining');
    assert.ok(api.panels().some((p) => p.view === 'runs'));
  });

  it('an engine crash is reported, pending work fails with "engine restarted", and a new engine serves', async () => {
    const pid = api.engine.pid!;
    const voc = (await api.trees.datasets.getChildren())[0] as { ds: { path: string } };
    const set = { data: voc.ds.path, dataset: 'voc' as const, split: 'panet' as const, fold: 0, ways: 1, shots: 1, seed: 1, list: 'val' as const };
    const h = api.engine.request({ type: 'evaluate', params: { set, model: { backbone: 'mobilenetv2', size: 96 }, episodes: 2000, runs: 1, annotation: 'dense' } });
    await new Promise((r) => setTimeout(r, 500));
    process.kill(pid, 'SIGKILL');
    await assert.rejects(h.result, /engine restarted/);
    const newPid = await waitFor('a new engine', () => (api.engine.running && api.engine.info ? api.engine.pid : undefined));
    assert.notStrictEqual(newPid, pid);
    const eps = await api.engine.call({ type: 'listEpisodes', set, run: 0, from: 0, count: 2 });
    assert.strictEqual(eps.episodes.length, 2);
  });

  it('Restart Engine replaces the process', async () => {
    const before = api.engine.pid;
    await vscode.commands.executeCommand('protolab.restartEngine');
    assert.ok(api.engine.running);
    assert.notStrictEqual(api.engine.pid, before);
  });
});
