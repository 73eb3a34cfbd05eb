// Checkpoints view: loose *.safetensors files (backbone weights or ProtoLab checkpoints) and, per
// training run, its checkpoints. Right-click → Evaluate runs the protocol with this model.
import * as path from 'path';
import * as vscode from 'vscode';
import { checkpointMeta } from './scan';
import type { ArtifactStore } from './store';
import type { RunSummary } from './scan';

export type CheckpointNode =
  | { type: 'checkpoint'; file: string; run?: string }
  | { type: 'runGroup'; run: RunSummary };

export class CheckpointsTree implements vscode.TreeDataProvider<CheckpointNode> {
  readonly onDidChangeTreeData: vscode.Event<void>;

  constructor(private readonly store: ArtifactStore) {
    this.onDidChangeTreeData = store.onDidChange;
  }

  getTreeItem(n: CheckpointNode): vscode.TreeItem {
    if (n.type === 'runGroup') {
      const it = new vscode.TreeItem(n.run.name, vscode.TreeItemCollapsibleState.Collapsed);
      it.description = `${n.run.checkpoints.length} checkpoint${n.run.checkpoints.length === 1 ? '' : 's'}`;
      it.tooltip = n.run.dir;
      it.iconPath = new vscode.ThemeIcon('folder-library');
      it.contextValue = 'protolab.runGroup';
      it.id = `ckrun:${n.run.dir}`;
      return it;
    }
    const it = new vscode.TreeItem(path.basename(n.file), vscode.TreeItemCollapsibleState.None);
    const meta = checkpointMeta(n.file);
    it.description = meta ? `ProtoLab ${String(meta.method ?? '')} ${String(meta.backbone ?? '')}${typeof meta.step === 'number' ? ` · step ${meta.step}` : ''}`.replace(/\s+/g, ' ').trim() : 'backbone weights';
    it.tooltip = `${n.file}\nRight-click → Evaluate`;
    it.iconPath = new vscode.ThemeIcon(meta ? 'package' : 'file-binary');
    it.resourceUri = vscode.Uri.file(n.file);
    it.contextValue = 'protolab.checkpoint';
    it.id = `ck:${n.file}`;
    return it;
  }

  async getChildren(n?: CheckpointNode): Promise<CheckpointNode[]> {
    const scan = await this.store.scan();
    if (!n) {
      return [
        ...scan.runs.filter((r) => r.checkpoints.length).map((run): CheckpointNode => ({ type: 'runGroup', run })),
        ...scan.files.map((file): CheckpointNode => ({ type: 'checkpoint', file })),
      ];
    }
    if (n.type === 'runGroup') return n.run.checkpoints.map((file) => ({ type: 'checkpoint', file, run: n.run.dir }));
    return [];
  }
}
