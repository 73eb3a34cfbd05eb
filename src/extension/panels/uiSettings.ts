// The settings bar's values for a panel: VS Code settings as defaults, the last values the user chose
// (workspaceState) on top, a configured dataset picked when none is set.
import * as vscode from 'vscode';
import type { DatasetChoice, UiSettings } from '../../shared/webviewProtocol';
import { readSettings, type DatasetSetting } from '../config';

const KEY = 'protolab.ui.settings';

export function datasetChoices(): DatasetChoice[] {
  return readSettings().datasets.filter((d) => d.kind !== 'folder').map((d) => ({ label: d.name, root: d.path, kind: d.kind as 'voc' | 'coco' }));
}

export function findDataset(root: string | undefined): DatasetSetting | undefined {
  const all = readSettings().datasets;
  return all.find((d) => d.path === root);
}

export function defaultUiSettings(ctx: vscode.ExtensionContext, over: Partial<UiSettings> = {}): UiSettings {
  const s = readSettings();
  const saved = ctx.workspaceState.get<Partial<UiSettings>>(KEY) ?? {};
  const base: UiSettings = {
    split: s.split, fold: 0, ways: s.ways, shots: s.shots, seed: s.seed, list: 'val', size: s.size,
    backbone: s.backbone, weights: s.weights, annotation: s.annotation, episodes: s.episodes, runs: s.runs,
  };
  const merged: UiSettings = { ...base, ...saved, ...over };
  const choices = datasetChoices();
  if (!merged.dataset || !choices.some((c) => c.root === merged.dataset)) {
    merged.dataset = choices[0]?.root;
  }
  merged.datasetKind = choices.find((c) => c.root === merged.dataset)?.kind;
  return merged;
}

export function rememberUiSettings(ctx: vscode.ExtensionContext, s: UiSettings): void {
  void ctx.workspaceState.update(KEY, s);
}
