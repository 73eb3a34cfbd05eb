// Palette / context-menu commands (category "ProtoLab"). Each accepts what its menus pass (a tree node,
// a file Uri) or a plain options object (scripts and integration tests), and asks with quick picks only
// for what is still missing.
import { fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ViewKind } from '../shared/webviewProtocol';
import { readSettings, resolvePath, workspaceRoot, type DatasetSetting } from './config';
import { describeError } from './engineHost';
import { episodeSet, modelFor, runEvaluation } from './jobs';
import { ProtoLabPanel } from './panels/panel';
import { defaultUiSettings } from './panels/uiSettings';
import { pickReports } from './reports';
import type { Services } from './services';
import type { DatasetNode } from './trees/datasets';
import type { CheckpointNode } from './trees/checkpoints';
import { checkpointMeta } from './trees/scan';

/** Options a script or test may pass instead of clicking. */
export interface EvaluateOptions { dataset?: string; fold?: number; checkpoint?: string; episodes?: number; runs?: number; ways?: number; shots?: number; open?: boolean }

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

async function pickDataset(svc: Services, root?: string): Promise<DatasetSetting | undefined> {
  const all = readSettings().datasets.filter((d) => d.kind !== 'folder');
  if (root) {
    const hit = all.find((d) => d.path === root || d.name === root);
    if (!hit) throw new Error(`no configured VOC/COCO dataset ${root} (see the setting protolab.datasets)`);
    return hit;
  }
  if (!all.length) {
    const a = await vscode.window.showWarningMessage('ProtoLab: no datasets configured.', 'Create Sample Dataset', 'Add Dataset');
    if (a === 'Create Sample Dataset') await vscode.commands.executeCommand('protolab.createSampleDataset');
    if (a === 'Add Dataset') await vscode.commands.executeCommand('protolab.addDataset');
    return undefined;
  }
  if (all.length === 1) return all[0];
  const p = await vscode.window.showQuickPick(all.map((d) => ({ label: d.name, description: `${d.kind.toUpperCase()} · ${d.path}`, d })), { title: 'Dataset', ignoreFocusOut: true });
  return p?.d;
}

async function pickFold(svc: Services, ds: DatasetSetting): Promise<number | undefined> {
  const info = await svc.datasets.info(ds);
  const split = readSettings().split;
  const folds = info.folds[split].length ? info.folds[split] : info.folds.panet;
  const p = await vscode.window.showQuickPick(folds.map((cls, f) => ({ label: `fold ${f}`, description: cls.map((c) => info.classNames[c]).join(', '), f })), { title: `${ds.name}: fold`, ignoreFocusOut: true });
  return p?.f;
}

/** One panel per view kind is reused, except reports (side by side). */
function reveal(svc: Services, view: ViewKind): ProtoLabPanel | undefined {
  const p = [...ProtoLabPanel.all].find((x) => x.view === view);
  p?.panel.reveal();
  return p;
}

export function registerCommands(svc: Services): vscode.Disposable[] {
  const { ctx, host } = svc;
  const guard = <A extends unknown[]>(f: (...a: A) => Promise<unknown>) => async (...a: A) => {
    try {
      return await f(...a);
    } catch (e) {
      void vscode.window.showErrorMessage(`ProtoLab: ${describeError(e)}`);
      return undefined;
    }
  };
  const reg = (id: string, f: (...a: any[]) => Promise<unknown>) => vscode.commands.registerCommand(id, guard(f)); // eslint-disable-line @typescript-eslint/no-explicit-any

  return [
    reg('protolab.open', async (arg?: DatasetNode | { dataset?: string; fold?: number }) => {
      const over: Record<string, unknown> = {};
      if (isObj(arg) && 'type' in arg && (arg.type === 'fold' || arg.type === 'dataset')) {
        over.dataset = arg.ds.path;
        if (arg.type === 'fold') Object.assign(over, { fold: arg.fold, split: arg.split });
      } else if (isObj(arg)) Object.assign(over, arg);
      const existing = reveal(svc, 'episodes');
      if (existing && Object.keys(over).length) {
        existing.settings = defaultUiSettings(ctx, { ...existing.settings, ...over });
        const ds = svc.datasetFor(existing.settings.dataset);
        existing.post({ type: 'settings', settings: existing.settings, datasetInfo: ds ? await svc.datasets.info(ds) : undefined, totalEpisodes: existing.settings.episodes });
        return existing;
      }
      return existing ?? ProtoLabPanel.create(svc, 'episodes', { settings: over });
    }),

    reg('protolab.evaluate', async (arg?: CheckpointNode | DatasetNode | vscode.Uri | EvaluateOptions) => {
      const o: EvaluateOptions = {};
      if (arg instanceof vscode.Uri) o.checkpoint = arg.fsPath;
      else if (isObj(arg) && arg.type === 'checkpoint') o.checkpoint = (arg as { file: string }).file;
      else if (isObj(arg) && arg.type === 'fold') Object.assign(o, { dataset: (arg as { ds: DatasetSetting }).ds.path, fold: (arg as { fold: number }).fold });
      else if (isObj(arg)) Object.assign(o, arg);
      const s = readSettings();
      // A training checkpoint is evaluated where it belongs (the novel classes of the fold it trained on)
      // without asking, when that dataset is configured: right-click → Evaluate is one click.
      const home = o.checkpoint && o.dataset === undefined && o.fold === undefined ? trainedOn(o.checkpoint, s.datasets) : undefined;
      const ds = home?.ds ?? (await pickDataset(svc, o.dataset));
      if (!ds) return undefined;
      const fold = o.fold ?? home?.fold ?? (await pickFold(svc, ds));
      if (fold === undefined) return undefined;
      const ui = defaultUiSettings(ctx, { dataset: ds.path, fold, split: home?.split ?? s.split, ways: o.ways ?? s.ways, shots: o.shots ?? s.shots });
      const m = modelFor({ backbone: s.backbone, weights: s.weights, size: s.size }, o.checkpoint);
      const out = await runEvaluation(ctx, host, { ds, set: episodeSet(ds, ui), model: m.model, modelLabel: m.label, episodes: o.episodes ?? s.episodes, runs: o.runs ?? s.runs, annotation: s.annotation });
      if (!out) return undefined;
      svc.lastReportPath = out.json;
      svc.store.refresh();
      if (o.open !== false) openReportPanel(svc, out.json);
      return out.json;
    }),

    reg('protolab.openReport', async (arg?: string | vscode.Uri) => {
      const file = typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.fsPath : (await pickReports(ctx, 'Open report', false))?.[0];
      return file ? openReportPanel(svc, file) : undefined;
    }),

    reg('protolab.compareReports', async (a?: string, b?: string) => {
      const files = a && b ? [a, b] : await pickReports(ctx, 'Compare two reports', true);
      if (!files) return undefined;
      if (files.length !== 2) throw new Error(`pick exactly two reports to compare (got ${files.length})`);
      return ProtoLabPanel.create(svc, 'compare', { reports: files });
    }),

    reg('protolab.openFailures', async (arg?: string | vscode.Uri) => {
      const file = typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.fsPath : svc.lastReportPath ?? (await pickReports(ctx, 'Failures of which report?', false))?.[0];
      if (!file) return undefined;
      const existing = reveal(svc, 'failures');
      if (existing) {
        existing.showReport(file, 'a');
        return existing;
      }
      return ProtoLabPanel.create(svc, 'failures', { reports: [file] });
    }),

    reg('protolab.startTraining', async () => {
      if (!vscode.workspace.isTrusted) throw new Error('Training is disabled in an untrusted workspace (Manage Workspace Trust to enable it).');
      return reveal(svc, 'runs') ?? ProtoLabPanel.create(svc, 'runs');
    }),
    reg('protolab.openRuns', async () => reveal(svc, 'runs') ?? ProtoLabPanel.create(svc, 'runs')),

    reg('protolab.addDataset', async (arg?: { path: string; kind?: DatasetSetting['kind']; name?: string }) => {
      let dir = arg?.path;
      if (!dir) {
        const u = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, canSelectMany: false, openLabel: 'Add dataset', filters: { 'COCO annotations': ['json'] } });
        dir = u?.[0]?.fsPath;
      }
      if (!dir) return undefined;
      const guess = guessKind(dir);
      const kind = arg?.kind ?? (await vscode.window.showQuickPick(
        [{ label: 'voc', description: 'PASCAL VOC 2012 (JPEGImages + SegmentationClass[Aug])' }, { label: 'coco', description: 'COCO 2014 (annotations/instances_*.json)' }, { label: 'folder', description: 'plain images (labeling)' }]
          .sort((a, b) => (a.label === guess ? -1 : b.label === guess ? 1 : 0)),
        { title: `Dataset kind (looks like ${guess})` },
      ))?.label as DatasetSetting['kind'] | undefined;
      if (!kind) return undefined;
      const name = arg?.name ?? (await vscode.window.showInputBox({ title: 'Dataset name', value: path.basename(dir) }));
      if (!name) return undefined;
      await addDatasetSetting({ name, path: dir, kind });
      svc.datasets.refresh();
      return name;
    }),

    reg('protolab.removeDataset', async (n?: DatasetNode) => {
      if (!n || n.type !== 'dataset') return;
      const c = vscode.workspace.getConfiguration('protolab');
      const target = workspaceRoot() ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      const list = (c.get<Array<{ path: string }>>('datasets') ?? []).filter((d) => typeof d?.path !== 'string' || resolvePath(d.path) !== n.ds.path);
      await c.update('datasets', list, target);
      svc.datasets.refresh();
    }),

    reg('protolab.createSampleDataset', async (arg?: { out?: string; train?: number; val?: number }) => {
      const out = arg?.out ?? (workspaceRoot() ? path.join(workspaceRoot()!, 'sample') : path.join(ctx.globalStorageUri.fsPath, 'sample'));
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `ProtoLab: writing the sample dataset to ${out}`, cancellable: true }, (_p, token) =>
        runCli(svc, ['sample', '--out', out, '--train', String(arg?.train ?? 100), '--val', String(arg?.val ?? 60)], token));
      await addDatasetSetting({ name: 'sample (VOC)', path: out, kind: 'voc' });
      await addDatasetSetting({ name: 'sample (COCO)', path: path.join(out, 'coco'), kind: 'coco' });
      svc.datasets.refresh();
      void vscode.window.showInformationMessage(`ProtoLab: sample dataset written to ${out} (VOC and COCO formats) and added to Datasets.`);
      return out;
    }),

    reg('protolab.restartEngine', async () => {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'ProtoLab: restarting the engine' }, () => host.restart());
      svc.datasets.refresh();
      const h = host.engine.info;
      void vscode.window.showInformationMessage(`ProtoLab engine restarted (pid ${h?.pid}, backend ${h?.backend}).`);
    }),
    reg('protolab.showEngineLog', async () => host.output.show(true)),
    reg('protolab.refresh', async () => {
      svc.datasets.refresh();
      svc.store.refresh();
    }),
  ];
}

/** The configured dataset, fold and split a ProtoLab training checkpoint was trained on (from its header). */
function trainedOn(file: string, datasets: DatasetSetting[]): { ds: DatasetSetting; fold: number; split?: 'panet' | 'fwb' } | undefined {
  const meta = checkpointMeta(file);
  const data = isObj(meta?.data) ? meta.data : undefined;
  const cfg = isObj(meta?.config) ? meta.config : undefined;
  const root = typeof data?.root === 'string' ? path.resolve(data.root) : undefined;
  const fold = typeof data?.fold === 'number' ? data.fold : typeof cfg?.fold === 'number' ? cfg.fold : undefined;
  if (!root || fold === undefined) return undefined;
  const kind = data?.kind ?? cfg?.dataset;
  // The engine records the resolved root (VOC: …/VOCdevkit/VOC2012); a setting may name a parent folder.
  const ds = datasets
    .filter((d) => d.kind === kind && (root === d.path || root.startsWith(d.path.replace(/[\\/]+$/, '') + path.sep)))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (!ds) return undefined;
  const split = data?.split === 'fwb' || data?.split === 'panet' ? data.split : undefined;
  return { ds, fold, split };
}

function openReportPanel(svc: Services, file: string): ProtoLabPanel {
  // A second report opens beside the first, so two reports read side by side.
  const beside = [...ProtoLabPanel.all].some((p) => p.view === 'report');
  return ProtoLabPanel.create(svc, 'report', { reports: [file] }, beside ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active);
}

function guessKind(p: string): DatasetSetting['kind'] {
  const has = (...q: string[]) => fs.existsSync(path.join(p, ...q));
  if (p.endsWith('.json') || has('annotations') || has('coco', 'annotations')) return 'coco';
  if (has('JPEGImages') || has('VOCdevkit') || has('VOC2012')) return 'voc';
  return 'folder';
}

export async function addDatasetSetting(d: DatasetSetting): Promise<void> {
  const c = vscode.workspace.getConfiguration('protolab');
  const list = [...(c.get<DatasetSetting[]>('datasets') ?? [])];
  const root = workspaceRoot();
  // Store workspace-relative paths so the settings file travels with the workspace.
  const stored = root && d.path.startsWith(root + path.sep) ? path.relative(root, d.path) : d.path;
  if (list.some((x) => x.path === stored || x.path === d.path)) return;
  list.push({ ...d, path: stored });
  await c.update('datasets', list, root ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global);
}

/** Run the bundled engine CLI (dist/engine/cli.js) as a child process; its output goes to the engine log. */
function runCli(svc: Services, args: string[], token: vscode.CancellationToken): Promise<void> {
  const o = svc.host.processOptions();
  return new Promise((resolve, reject) => {
    const child = fork(svc.host.cliPath, args, { execPath: o.execPath, execArgv: o.execArgv, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const tail: string[] = [];
    const onData = (b: Buffer) => b.toString('utf8').split(/[\r\n]+/).filter(Boolean).forEach((l) => {
      svc.host.log(`[cli] ${l}`);
      tail.push(l);
      if (tail.length > 5) tail.shift();
    });
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    token.onCancellationRequested(() => child.kill());
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`protolab ${args[0]} ${signal ? `was stopped (${signal})` : `failed (exit ${code})`}: ${tail.join(' | ')}`))));
  });
}
