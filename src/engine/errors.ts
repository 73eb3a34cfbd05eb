// Errors a user can act on: each names the file (when there is one) and what is wrong with it.

export class DataError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'DataError';
  }
}

/** A bad argument or setting (CLI flag, config value). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Thrown by long jobs when their AbortSignal fires; callers treat it as a clean stop, not a failure. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

/**
 * A training run stopped because its loss diverged (non-finite or exploding). Not a bug: a setting (most
 * often the learning rate) does not suit the model. Carries what the user needs to go on.
 */
export class TrainingDivergedError extends Error {
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly reason: string,
    /** The newest checkpoint whose parameters gave a loss that passed the check. */
    readonly lastGood?: { step: number; file: string },
  ) {
    super(`training diverged at step ${step}: ${reason}. Nothing was saved from this step on; ` +
      (lastGood ? `the last good checkpoint is step ${lastGood.step}: ${lastGood.file}` : 'no checkpoint was written before it') +
      '. Start again with a lower --lr' + (lastGood ? ` (e.g. --init ${lastGood.file})` : '') + '.');
    this.name = 'TrainingDivergedError';
  }
}
