// Grid thumbnails, fetched lazily: the grid says which images are on screen, the cache asks the host
// for the ones it lacks (or holds at an older `rev`) once scrolling settles, in batches, and keeps a
// bounded number decoded (least recently used go first). A thumbnail is the host's small image plus
// the index mask of its prediction, coloured here with the theme's class colours.
import { classColours, maskCanvas, type MaskColours } from '../../maskPainter';
import { decodeImage, decodeIndexMask, type IndexMask } from '../../masks';
import type { LabelThumb } from '../../../shared/webviewLabelProtocol';
import type { LabelColors } from './labelColors';

export interface Thumb {
  rev: number;
  image: ImageBitmap | null;
  mask: IndexMask | null;
  /** the mask coloured with the current colours (made on first draw) */
  overlay?: HTMLCanvasElement;
}

export const BATCH = 60;
/** Wait this long after the visible window last changed before asking (a fling asks once, at the end,
 *  even when its frames are slow: decoding thumbnails mid-fling would only slow it further). */
export const SETTLE_MS = 100;

export class ThumbCache {
  private readonly map = new Map<string, Thumb>();
  private readonly pending = new Map<string, number>();
  private wanted: Array<[string, number]> = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** batches asked for (tests read it through the debug hook) */
  requests = 0;
  /** the engine's class masks: classes coloured, background and unsure clear (as the prediction layer) */
  private maskColours: MaskColours;

  constructor(
    private readonly ask: (ids: string[]) => Promise<LabelThumb[]>,
    private readonly ready: (ids: string[]) => void,
    colors: LabelColors,
    private readonly capacity = 600,
  ) {
    this.maskColours = classColours(colors.of);
  }

  get(id: string): Thumb | undefined {
    const t = this.map.get(id);
    if (t) {
      this.map.delete(id);
      this.map.set(id, t);
    }
    return t;
  }

  setColors(colors: LabelColors): void {
    this.maskColours = classColours(colors.of);
    for (const t of this.map.values()) t.overlay = undefined;
  }

  /** The images on screen now, with the rev each should have: fetch what is missing once this settles. */
  want(items: Array<[string, number]>): void {
    this.wanted = items;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), SETTLE_MS);
  }

  private flush(): void {
    const missing = this.wanted.filter(([id, rev]) => {
      const t = this.map.get(id);
      return (!t || t.rev < rev) && !((this.pending.get(id) ?? -1) >= rev);
    });
    for (let i = 0; i < missing.length; i += BATCH) {
      const batch = missing.slice(i, i + BATCH);
      for (const [id, rev] of batch) this.pending.set(id, rev);
      this.requests++;
      this.ask(batch.map(([id]) => id)).then((thumbs) => this.ingest(thumbs), (e: Error) => {
        console.warn(`ProtoLab: thumbnails failed: ${e.message}`);
      }).finally(() => {
        for (const [id] of batch) this.pending.delete(id);
      });
    }
  }

  /** Thumbnails from the host (a reply, or pushed after the grid pass changed them). */
  async ingest(thumbs: readonly LabelThumb[]): Promise<void> {
    const done: string[] = [];
    await Promise.all(thumbs.map(async (t) => {
      const image = await decodeImage(t.image).catch(() => null);
      let mask: IndexMask | null = null;
      try {
        mask = t.mask ? decodeIndexMask(t.mask) : null;
      } catch (e) {
        console.warn(`ProtoLab: thumbnail mask of ${t.imageId}: ${(e as Error).message}`);
      }
      const old = this.map.get(t.imageId);
      if (old && old.rev > (t.rev ?? 0)) {
        image?.close();
        return; // an older thumbnail arriving late
      }
      old?.image?.close();
      this.map.delete(t.imageId);
      this.map.set(t.imageId, { rev: t.rev ?? 0, image, mask });
      done.push(t.imageId);
    }));
    while (this.map.size > this.capacity) {
      const [id, t] = this.map.entries().next().value as [string, Thumb];
      t.image?.close();
      this.map.delete(id);
    }
    if (done.length) this.ready(done);
  }

  /** Draw thumbnail `id` into a tile canvas (image contained, mask over it); false when not loaded. */
  draw(id: string, canvas: HTMLCanvasElement, opacity: number): boolean {
    const c = canvas.getContext('2d');
    if (!c) return false;
    c.clearRect(0, 0, canvas.width, canvas.height);
    const t = this.get(id);
    if (!t?.image) return false;
    const s = Math.min(canvas.width / t.image.width, canvas.height / t.image.height);
    const w = t.image.width * s, h = t.image.height * s, x = (canvas.width - w) / 2, y = (canvas.height - h) / 2;
    c.imageSmoothingEnabled = true;
    c.drawImage(t.image, x, y, w, h);
    if (t.mask) {
      t.overlay ??= maskCanvas(t.mask, this.maskColours);
      c.globalAlpha = opacity;
      c.imageSmoothingEnabled = false;
      c.drawImage(t.overlay, x, y, w, h);
      c.globalAlpha = 1;
    }
    return true;
  }
}
