// Saved evaluation reports: RESULT.json (the engine's EvalResult) + RESULT.records.jsonl (one scored
// query per line, for the failure browser), under `protolab.eval.reportsDir` in the workspace.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { EvalRecord, ReportBundle, ReportData } from '../shared/webviewProtocol';
import { readSettings, resolvePath, workspaceRoot } from './config';
import { reserveUniqueFile } from './uniqueNames';

export function reportsDir(ctx: vscode.ExtensionContext): string {
  return workspaceRoot() ? resolvePath(readSettings().reportsDir) : path.join(ctx.globalStorageUri.fsPath, 'reports');
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'x';

/** Fresh file names for one evaluation: <time>-<dataset>-f<fold>-<ways>w<shots>s[-<model>].json, reserved
 *  against another window starting one in the same second (uniqueNames.ts); release() once it is written. */
export function newReportPaths(ctx: vscode.ExtensionContext, parts: { dataset: string; fold: number; ways: number; shots: number; model?: string }): { json: string; records: string; release(): void } {
  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
  const base = [stamp, slug(parts.dataset), `f${parts.fold}`, `${parts.ways}w${parts.shots}s`, parts.model ? slug(parts.model) : ''].filter(Boolean).join('-');
  const r = reserveUniqueFile(reportsDir(ctx), base, '.json');
  return { json: r.file, records: recordsPathFor(r.file), release: r.release };
}

export function recordsPathFor(json: string): string {
  return json.replace(/\.json$/i, '') + '.records.jsonl';
}

/** Read a report and its records; a bad file is an error naming it. */
export function loadReport(file: string): ReportBundle {
  let result: ReportData;
  try {
    result = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not a readable ProtoLab report (${(e as Error).message})`);
  }
  if (!result || typeof result !== 'object' || typeof result.miou !== 'number' || typeof result.settings !== 'object') {
    throw new Error(`${file}: not a ProtoLab evaluation report (no miou/settings)`);
  }
  const recFile = recordsPathFor(file);
  const records: EvalRecord[] = [];
  if (fs.existsSync(recFile)) {
    for (const line of fs.readFileSync(recFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        /* a torn last line (crash while writing) loses one row, not the report */
      }
    }
  }
  return { label: path.basename(file, '.json'), result, records };
}

/** Reports in the reports folder, newest first. */
export function listReports(ctx: vscode.ExtensionContext): string[] {
  const dir = reportsDir(ctx);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
}

/** Quick pick over saved reports (with "Browse…" for others). */
export async function pickReports(ctx: vscode.ExtensionContext, title: string, many: boolean): Promise<string[] | undefined> {
  const files = listReports(ctx);
  const describe = (f: string) => {
    try {
      const r = JSON.parse(fs.readFileSync(f, 'utf8')) as ReportData;
      return `mIoU ${(100 * r.miou).toFixed(1)} · FB-IoU ${(100 * r.fbiou).toFixed(1)} · ${r.settings.dataset ?? ''} fold ${r.settings.fold ?? '?'} ${r.settings.ways ?? '?'}-way ${r.settings.shots ?? '?'}-shot`;
    } catch {
      return 'unreadable';
    }
  };
  const browse = { label: '$(folder-opened) Browse…', file: '' };
  const items = [...files.map((f) => ({ label: path.basename(f, '.json'), description: describe(f), file: f })), browse];
  const picked = many
    ? await vscode.window.showQuickPick(items.filter((i) => i.file), { title, canPickMany: true, placeHolder: 'Pick two reports' })
    : [await vscode.window.showQuickPick(items, { title })].filter((x): x is (typeof items)[number] => !!x);
  if (!picked || !picked.length) return undefined;
  if (picked.some((p) => p === browse)) {
    const uris = await vscode.window.showOpenDialog({ canSelectMany: many, filters: { 'ProtoLab report': ['json'] }, defaultUri: vscode.Uri.file(reportsDir(ctx)) });
    return uris?.map((u) => u.fsPath);
  }
  return picked.map((p) => p.file);
}
