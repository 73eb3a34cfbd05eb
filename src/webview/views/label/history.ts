// The open image's annotation and its undo/redo. Every edit the view offers appends ONE shape, so the
// undo stack is the shape list itself and the redo stack is the shapes undone (newest last): undo
// moves the last shape to `redo`, redo moves it back, a new edit clears `redo`. Both lists go to the
// host with each change (labelSetShapes), which is how a reload gets undo/redo back exactly.
// `generation` counts changes of this image (the host's reply names the generation it answers).
import type { LabelShape } from '../../../shared/webviewLabelProtocol';

export class ShapeHistory {
  private shapes: LabelShape[];
  private redoStack: LabelShape[];
  private gen: number;

  constructor(readonly imageId: string, shapes: LabelShape[] = [], redo: LabelShape[] = [], generation = 0) {
    this.shapes = [...shapes];
    this.redoStack = [...redo];
    this.gen = generation;
  }

  get list(): readonly LabelShape[] {
    return this.shapes;
  }

  get redoList(): readonly LabelShape[] {
    return this.redoStack;
  }

  /** generation of the latest change (the one the next prediction must answer to) */
  get generation(): number {
    return this.gen;
  }

  get canUndo(): boolean {
    return this.shapes.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** A new shape: returns the new generation. */
  add(shape: LabelShape): number {
    this.shapes.push(shape);
    this.redoStack = [];
    return ++this.gen;
  }

  /** Undo the last shape; the new generation, or undefined when there is nothing to undo. */
  undo(): number | undefined {
    const s = this.shapes.pop();
    if (!s) return undefined;
    this.redoStack.push(s);
    return ++this.gen;
  }

  redo(): number | undefined {
    const s = this.redoStack.pop();
    if (!s) return undefined;
    this.shapes.push(s);
    return ++this.gen;
  }
}
