// The host's copy of every image's latest shapes until the engine says they are on disk. The engine
// saves state.json a little after each edit (coalesced); if its process dies in between, what the user
// drew in that window would be gone. So each edit forwarded to the engine gets a sequence number and
// stays here until the engine's watch stream reports `saved` with a seq at least as high; after a
// restart the host replays what is left, oldest first, before anything else reaches the new engine.
// Only the newest shape list per image is kept: each edit carries the WHOLE list, so it replaces the
// older one (replaying it alone restores the image exactly). Plain module (no vscode): unit-tested.

export interface JournalEntry {
  image: string;
  shapes: unknown[];
  redo: unknown[];
  seq: number;
}

export class EditJournal {
  private next: number;
  private readonly byImage = new Map<string, JournalEntry>();

  /** `firstSeq`: where numbering starts (seqs only grow, across engine restarts too). */
  constructor(firstSeq = 1) {
    this.next = firstSeq;
  }

  /** Keep an edit about to be forwarded; returns it with its seq. */
  record(image: string, shapes: unknown[], redo: unknown[]): JournalEntry {
    const e: JournalEntry = { image, shapes, redo, seq: this.next++ };
    this.byImage.set(image, e);
    return e;
  }

  /** The engine saved every edit with seq ≤ `seq`: forget them. */
  confirm(seq: number): void {
    for (const [image, e] of this.byImage) if (e.seq <= seq) this.byImage.delete(image);
  }

  /** The newest entry of an image (undefined once confirmed). */
  latest(image: string): JournalEntry | undefined {
    return this.byImage.get(image);
  }

  /** Unconfirmed edits, oldest first: what a restarted engine must be given again. */
  pending(): JournalEntry[] {
    return [...this.byImage.values()].sort((a, b) => a.seq - b.seq);
  }

  get size(): number {
    return this.byImage.size;
  }
}
