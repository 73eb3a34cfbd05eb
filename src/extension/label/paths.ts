// Small decisions of the labeling command, kept free of vscode so unit tests reach them: where an export
// goes, which classes a folder's saved state already has, and how the class prompt is read.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** The labeling state of a folder lives with its images (label/service.ts LABEL_DIR). */
export const LABEL_STATE_DIR = path.join('.protolab', 'label');

/**
 * Where a folder's labeling state lives: with its images (`<folder>/.protolab/label`, the engine's
 * default: the work follows the folder, and every window and `protolab label --state` meet at the same
 * lock) when the folder can be written; else under the workspace's `.protolab/label/<name>-<hash>`, else
 * under `fallback` (the extension's storage). Undefined means the engine's default.
 */
export function labelStateDir(folder: string, workspaceRoot: string | undefined, fallback: string, writable = canWrite): string | undefined {
  const own = path.join(folder, LABEL_STATE_DIR);
  if (fs.existsSync(own) ? writable(own) : writable(folder)) return undefined;
  const key = `${path.basename(folder)}-${createHash('sha256').update(path.resolve(folder)).digest('hex').slice(0, 8)}`;
  if (workspaceRoot && writable(workspaceRoot)) return path.join(workspaceRoot, LABEL_STATE_DIR, key);
  return path.join(fallback, 'label', key);
}

function canWrite(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where an export goes in the folder the user picked: into it when it is empty, else a new sub-folder. */
export function exportTarget(picked: string, name: string): { out: string; force: boolean } {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(picked);
  } catch {
    entries = [];
  }
  if (!entries.length) return { out: picked, force: true };
  let out = path.join(picked, `${name}-labels`);
  for (let i = 2; fs.existsSync(out); i++) out = path.join(picked, `${name}-labels-${i}`);
  return { out, force: false };
}

/** Class names already saved in a state folder ([] when it was never labelled or the state is unreadable). */
export function savedClassNames(stateDir: string): string[] {
  try {
    const j = JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { classes?: Array<{ name?: unknown }> };
    return (j.classes ?? []).map((c) => c?.name).filter((n): n is string => typeof n === 'string');
  } catch {
    return [];
  }
}

/** "cat, dog , cat" → ['cat', 'dog']; a problem (empty, a line break, too many) as a message. */
export function parseClassList(text: string): { names: string[]; problem?: string } {
  const names = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  if (!names.length) return { names, problem: 'Name at least one class (more can be added later in the view).' };
  if (names.length > 253) return { names, problem: 'At most 253 classes fit an 8-bit mask.' };
  const long = names.find((n) => n.length > 200);
  if (long) return { names, problem: `"${long.slice(0, 20)}…" is longer than 200 characters.` };
  if (names.some((n) => n.toLowerCase() === 'background')) return { names, problem: '"background" is always there (label 0); name the objects.' };
  return { names };
}
