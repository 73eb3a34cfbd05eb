// Datasets view: the roots in `protolab.datasets`, and under each its folds (from the engine's
// openDataset: class names + fold membership). Expanding a root indexes the dataset in the engine
// process (COCO's first index can take a while: shown with progress on the view).
import * as vscode from 'vscode';
import type { DatasetInfo } from '../../shared/engineProtocol';
import { readSettings, type DatasetSetting } from '../config';
import type { EngineHost } from '../engineHost';
import { describeError } from '../engineHost';

export type DatasetNode =
  | { type: 'dataset'; ds: DatasetSetting }
  | { type: 'fold'; ds: DatasetSetting; fold: number; classes: string[]; split: 'panet' | 'fwb' }
  | { type: 'message'; text: string; tooltip?: string };

export class DatasetsTree implements vscode.TreeDataProvider<DatasetNode> {
  private readonly changed = new vscode.EventEmitter<DatasetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** openDataset answers per root, so re-rendering does not ask the engine again */
  private readonly infos = new Map<string, Promise<DatasetInfo>>();

  constructor(private readonly host: EngineHost) {}

  refresh(): void {
    this.infos.clear();
    this.changed.fire(undefined);
  }

  /** The engine's description of a configured dataset (cached; engine errors propagate). */
  info(ds: DatasetSetting): Promise<DatasetInfo> {
    if (ds.kind === 'folder') return Promise.reject(new Error(`${ds.name}: folder datasets hold unlabeled images for labeling; they have no folds to browse or evaluate`));
    const k = `${ds.kind}:${ds.path}:${ds.images ?? ''}`;
    let p = this.infos.get(k);
    if (!p) {
      p = Promise.resolve(
        vscode.window.withProgress({ location: { viewId: 'protolab.datasets' }, title: `Indexing ${ds.name}` }, () =>
          this.host.engine.call({ type: 'openDataset', ref: { data: ds.path, dataset: ds.kind as 'voc' | 'coco', images: ds.images } }),
        ),
      );
      p.catch(() => this.infos.delete(k)); // failures are retried on the next expand
      this.infos.set(k, p);
    }
    return p;
  }

  getTreeItem(n: DatasetNode): vscode.TreeItem {
    switch (n.type) {
      case 'dataset': {
        const it = new vscode.TreeItem(n.ds.name, n.ds.kind === 'folder' ? vscode.TreeItemCollapsibleState.None : vscode.TreeItemCollapsibleState.Collapsed);
        it.description = n.ds.kind.toUpperCase();
        it.tooltip = n.ds.path;
        it.iconPath = new vscode.ThemeIcon('database');
        // folder datasets (plain images) are labelled, not browsed: their own menu entries
        it.contextValue = n.ds.kind === 'folder' ? 'protolab.dataset.folder' : 'protolab.dataset';
        it.id = `dataset:${n.ds.path}`;
        return it;
      }
      case 'fold': {
        const it = new vscode.TreeItem(`fold ${n.fold}`, vscode.TreeItemCollapsibleState.None);
        it.description = n.classes.join(', ');
        it.tooltip = `${n.ds.name} · ${n.split} split · fold ${n.fold}: ${n.classes.join(', ')}\nClick to browse episodes; right-click → Evaluate.`;
        it.iconPath = new vscode.ThemeIcon('symbol-folder');
        it.contextValue = 'protolab.fold';
        it.id = `fold:${n.ds.path}:${n.split}:${n.fold}`;
        it.command = { command: 'protolab.open', title: 'Open', arguments: [n] };
        return it;
      }
      case 'message': {
        const it = new vscode.TreeItem(n.text, vscode.TreeItemCollapsibleState.None);
        it.tooltip = n.tooltip ?? n.text;
        it.iconPath = new vscode.ThemeIcon('info');
        return it;
      }
    }
  }

  async getChildren(n?: DatasetNode): Promise<DatasetNode[]> {
    const s = readSettings();
    if (!n) return s.datasets.map((ds) => ({ type: 'dataset', ds }));
    if (n.type !== 'dataset') return [];
    try {
      const info = await this.info(n.ds);
      const folds = info.folds[s.split].length ? info.folds[s.split] : info.folds.panet;
      const split = info.folds[s.split].length ? s.split : 'panet';
      if (!folds.length) {
        const k = info.classNames.length - 1;
        const names = info.classNames.slice(1, 6).join(', ') + (k > 5 ? ', …' : '');
        const count = `${k} class${k === 1 ? '' : 'es'}`;
        return [{
          type: 'message', text: `${count} (${names}): no 4-fold split`,
          tooltip: `${count}. Folds split the classes 4 ways (PASCAL-5i / COCO-20i), so browsing episodes, training and evaluating by fold here need a multiple of 4 classes.`,
        }];
      }
      return folds.map((cls, fold) => ({ type: 'fold', ds: n.ds, fold, split, classes: cls.map((c) => info.classNames[c] ?? String(c)) }));
    } catch (e) {
      const msg = describeError(e);
      return [{ type: 'message', text: msg.split('\n')[0], tooltip: msg }];
    }
  }
}
