// The labeling view's edit loop, without the DOM: the open image's shapes and undo/redo (history.ts),
// what goes to the host after each change, and which predictions are taken. The loop that must feel
// instant: every change (a new shape, undo, redo) sends the WHOLE shape list and redo stack with the
// next generation (labelSetShapes); the host answers with the prediction for that generation. A reply
// to an older generation than the latest edit is dropped (the newest request wins), and nothing waits
// on the host to keep drawing. A send that fails while it is still the latest is retried (1 s, 2 s,
// 4 s); after that the next change sends everything again. The view (labelView.ts) draws; this file
// decides, and test/unit/labelEditLoop.test.ts checks it in node.
import type { LabelShape } from '../../../shared/webviewLabelProtocol';
import { ShapeHistory } from './history';

/** What one change sends (labelSetShapes without type and id). */
export interface ShapesEdit {
  imageId: string;
  generation: number;
  shapes: LabelShape[];
  redo: LabelShape[];
}

export interface EditLoopPort {
  /** Post the edit; the promise settles with the host's reply (a failure rejects). */
  send(edit: ShapesEdit): Promise<unknown>;
  /** An edit of `generation` is about to go out for the first time (the latency meter's start). */
  editEnded?(generation: number): void;
  /** ... and went out. */
  posted?(generation: number): void;
  /** Undo / redo became possible or not. */
  history(canUndo: boolean, canRedo: boolean): void;
  /** The latest edit failed to reach the host; `retrying`: it goes again by itself. */
  failed(message: string, retrying: boolean): void;
  /** Timers (tests pass their own): run `fn` after `ms`; the result cancels it. */
  later?(fn: () => void, ms: number): () => void;
}

/** How many times a failed send of the latest edit is retried (after 1, 2, 4 s). */
export const RETRIES = 3;

const realLater = (fn: () => void, ms: number): (() => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export class EditLoop {
  private hist: ShapeHistory | null = null;
  private cancelRetry: (() => void) | undefined;
  /** predictions dropped because the shapes changed since they were asked for */
  dropped = 0;

  constructor(private readonly port: EditLoopPort) {}

  /** The open image's history (null before one is open). */
  get history(): ShapeHistory | null {
    return this.hist;
  }

  /** An image was opened: its shapes, redo stack and the last generation the host stored. */
  open(imageId: string, shapes: LabelShape[], redo: LabelShape[], generation: number): ShapeHistory {
    this.hist = new ShapeHistory(imageId, shapes, redo, generation);
    this.port.history(this.hist.canUndo, this.hist.canRedo);
    return this.hist;
  }

  /** A new shape on the open image (sent at once); false when no image is open. */
  add(shape: LabelShape): boolean {
    if (!this.hist) return false;
    this.hist.add(shape);
    this.send();
    return true;
  }

  /** Undo the last shape (sent at once); false when there was nothing to undo. */
  undo(): boolean {
    if (this.hist?.undo() === undefined) return false;
    this.send();
    return true;
  }

  redo(): boolean {
    if (this.hist?.redo() === undefined) return false;
    this.send();
    return true;
  }

  /**
   * A prediction arrived for (imageId, generation): true when it is for the open image and not older
   * than its latest edit (paint it); an older one is counted as dropped.
   */
  takes(imageId: string, generation: number): boolean {
    const hist = this.hist;
    if (!hist || imageId !== hist.imageId) return false;
    if (generation < hist.generation) {
      this.dropped++; // an answer to shapes the user has changed since: the newest request wins
      return false;
    }
    return true;
  }

  /** Send the open image's shapes (the latest generation). */
  private send(attempt = 0): void {
    const hist = this.hist;
    if (!hist) return;
    const generation = hist.generation;
    if (attempt === 0) this.port.editEnded?.(generation);
    this.port.history(hist.canUndo, hist.canRedo);
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    const reply = this.port.send({ imageId: hist.imageId, generation, shapes: [...hist.list], redo: [...hist.redoList] });
    if (attempt === 0) this.port.posted?.(generation);
    reply.catch((e: Error) => {
      if (hist !== this.hist || generation !== hist.generation) return; // a newer edit went out since
      // the host holds what is saved: keep the shapes here and send them again
      const retrying = attempt < RETRIES;
      this.port.failed(e.message, retrying);
      if (retrying) this.cancelRetry = (this.port.later ?? realLater)(() => this.send(attempt + 1), 1000 * 2 ** attempt);
    });
  }
}
