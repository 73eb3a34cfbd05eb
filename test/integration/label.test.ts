// The labeling workbench inside a VS Code extension host: ProtoLab: Label Images in Folder is
// registered with the right menus, opens the labeling view on a folder of images, and the view
// completes its handshake (ready → init → labelSync answered) with no message rejected either way.
import * as assert from 'assert';
import { encode } from 'fast-png';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ProtoLabApi } from '../../src/extension/extension';

const EXT_ID = 'protolab.protolab';
const waitFor = async <T>(what: string, f: () => T | undefined | false, ms = 90000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

/** A small RGB PNG: a gray field with a coloured square at (x, y). */
function photo(file: string, x: number, y: number): void {
  const w = 64, h = 48, d = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const px = i % w, py = Math.floor(i / w);
    const inside = px >= x && px < x + 16 && py >= y && py < y + 16;
    d.set(inside ? [200, 40, 40] : [120, 120, 120], 3 * i);
  }
  fs.writeFileSync(file, encode({ width: w, height: h, data: d, depth: 8, channels: 3 }));
}

describe('labeling workbench in a VS Code extension host', function () {
  this.timeout(300000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-int-label-'));
  const folder = path.join(tmp, 'photos');
  let api: ProtoLabApi;
  let pkg: { activationEvents: string[]; contributes: { commands: Array<{ command: string; title: string; category?: string }>; menus: Record<string, Array<{ command: string; when?: string; group?: string }>> } };

  before(async () => {
    const ext = vscode.extensions.getExtension<ProtoLabApi>(EXT_ID);
    assert.ok(ext, `extension ${EXT_ID} is installed`);
    api = await ext.activate();
    pkg = ext.packageJSON;
    fs.mkdirSync(folder, { recursive: true });
    for (let i = 0; i < 3; i++) photo(path.join(folder, `p${i}.png`), 8 + 10 * i, 8 + 6 * i);
  });
  after(() => {
    for (const p of api?.labelPanels() ?? []) p.panel.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('registers ProtoLab: Label Images in Folder with its activation events', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    assert.ok(all.has('protolab.labelFolder'));
    const c = pkg.contributes.commands.find((x) => x.command === 'protolab.labelFolder');
    assert.deepStrictEqual([c?.category, c?.title], ['ProtoLab', 'Label Images in Folder']);
    assert.ok(pkg.activationEvents.includes('onWebviewPanel:protolab.label'));
    assert.ok(pkg.activationEvents.includes('onCommand:protolab.labelFolder'));
  });

  it('offers it on Explorer folders and on folder datasets only', async () => {
    const explorer = pkg.contributes.menus['explorer/context'].filter((m) => m.command === 'protolab.labelFolder');
    assert.deepStrictEqual(explorer.map((m) => m.when), ['explorerResourceIsFolder']);
    const tree = pkg.contributes.menus['view/item/context'].filter((m) => m.command === 'protolab.labelFolder');
    assert.ok(tree.length > 0 && tree.every((m) => m.when === 'viewItem == protolab.dataset.folder'), JSON.stringify(tree));
    // the Datasets tree gives folder datasets that context value (and VOC/COCO ones another)
    const cfg = vscode.workspace.getConfiguration('protolab');
    const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    const before = cfg.inspect('datasets');
    try {
      await cfg.update('datasets', [{ name: 'my photos', path: folder, kind: 'folder' }], target);
      const nodes = await api.trees.datasets.getChildren();
      const item = api.trees.datasets.getTreeItem(nodes.find((n) => n.type === 'dataset' && n.ds.path === folder)!);
      assert.strictEqual(item.contextValue, 'protolab.dataset.folder');
    } finally {
      await cfg.update('datasets', (before as { workspaceValue?: unknown; globalValue?: unknown } | undefined)?.[target === vscode.ConfigurationTarget.Workspace ? 'workspaceValue' : 'globalValue'], target);
    }
  });

  it('opens the labeling view on a folder: the webview completes the ready handshake and syncs, 0 messages rejected', async function () {
    if (!fs.existsSync(path.join(vscode.extensions.getExtension(EXT_ID)!.extensionPath, 'dist', 'webview', 'main.js'))) this.skip();
    await vscode.commands.executeCommand('protolab.labelFolder', { folder, classes: ['square'] });
    const p = await waitFor('the label panel', () => api.labelPanels().find((x) => x.folder === folder));
    p.panel.reveal();
    await waitFor('the ready handshake and labelSync', () => p.webview.isReady && p.controller.synced > 0).catch((e) => {
      throw new Error(`${(e as Error).message} (received ${p.webview.received}, rejected ${p.webview.rejected}, synced ${p.controller.synced})`);
    });
    assert.strictEqual(p.webview.rejected, 0, 'no invalid messages from the webview');
    assert.strictEqual(p.webview.invalidPosts, 0, 'no invalid messages to the webview');
    assert.deepStrictEqual(p.controller.classes.map((c) => c.name), ['square']);
    assert.ok(fs.existsSync(path.join(folder, '.protolab', 'label', 'lock')), 'the folder is locked while it is open');
    // files added or removed while labeling: the file watcher rescans, the image list follows
    photo(path.join(folder, 'new.png'), 30, 20);
    await waitFor('new.png listed', () => p.controller.imageIds.includes('new.png'), 60000);
    fs.rmSync(path.join(folder, 'p0.png'));
    await waitFor('p0.png gone', () => !p.controller.imageIds.includes('p0.png'), 60000);
    assert.deepStrictEqual(p.controller.imageIds, ['new.png', 'p1.png', 'p2.png']);
    // the same command on the same folder reveals this panel, not a second one
    await vscode.commands.executeCommand('protolab.labelFolder', { folder, classes: ['square'] });
    assert.strictEqual(api.labelPanels().filter((x) => x.folder === folder).length, 1);
    p.panel.dispose();
    await waitFor('the lock released on close', () => !fs.existsSync(path.join(folder, '.protolab', 'label', 'lock')), 30000);
  });
});
