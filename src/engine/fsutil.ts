// Atomic writes (DESIGN.md: labels, checkpoints and reports go to a temp file, then rename). The temp
// name is unique to its writer (host, pid, random) because several processes, on several machines of a
// cluster, may write the same file of a shared folder at once (the feature cache): each renames its own
// complete temp file, so the file is always one writer's whole version.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

function tempName(file: string): string {
  const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 32);
  return path.join(path.dirname(file), `.${path.basename(file)}.${host}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export async function writeFileAtomicAsync(file: string, data: string | Uint8Array): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  try {
    await fs.promises.writeFile(tmp, data);
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}
