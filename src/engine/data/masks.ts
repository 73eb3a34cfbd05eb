// Export the class-index masks exactly as the engine sees them (after COCO rasterisation, crowd
// handling, VOC mask-folder preference), for checking a dataset by eye or with other tools.
import * as path from 'path';
import { DataError } from '../errors';
import { isStorageError } from '../storageError';
import { fitsImage, readImageHeader } from '../image/header';
import { writeIndexPngAsync } from '../image/png';
import type { ListName, SegDataset } from './dataset';
import { checkRealInside } from './safepath';

export interface WriteMasksResult {
  written: number;
  skipped: { file: string; error: string }[];
}

/** Writes OUT/<image file stem>.png (VOC palette, 255 kept) for every image of `lists` (each image once,
 *  in the order of first appearance). A bad image or
 *  mask is recorded in `skipped` and the job goes on. The image is checked by its header only (exists,
 *  decodable, same size as the mask): a truncated JPEG body is caught when the engine decodes it. */
export async function writeMasks(
  ds: SegDataset,
  lists: ListName[],
  outDir: string,
  onProgress?: (done: number, total: number) => void,
): Promise<WriteMasksResult> {
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const list of lists) for (const id of await ds.imageIds(list)) if (!seen.has(id)) { seen.add(id); ids.push(id); }
  const result: WriteMasksResult = { written: 0, skipped: [] };
  const stemOwner = new Map<string, string>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    let imageFile = id;
    try {
      imageFile = ds.imagePath(id);
      const stem = path.basename(imageFile, path.extname(imageFile));
      const prev = stemOwner.get(stem);
      if (prev !== undefined) throw new DataError(imageFile, `same file stem as ${prev}; its mask would overwrite that one`);
      const mask = await ds.loadMask(id);
      checkRealInside(imageFile, [ds.root, path.dirname(imageFile)]);
      const meta = await readImageHeader(imageFile); // header only
      if (!fitsImage(mask, meta)) {
        throw new DataError(imageFile, `image is ${meta.width}×${meta.height} but its mask is ${mask.width}×${mask.height}`);
      }
      await writeIndexPngAsync(path.join(outDir, `${stem}.png`), mask);
      stemOwner.set(stem, imageFile);
      result.written++;
    } catch (e) {
      if (isStorageError(e)) throw e; // the output folder, not this image: every next write would fail too
      const file = e instanceof DataError ? e.file : imageFile;
      const error = e instanceof DataError ? e.problem : (e as Error).message;
      result.skipped.push({ file, error });
    }
    onProgress?.(i + 1, ids.length);
  }
  return result;
}
