// What the user is told, and offered, when the engine process died under a running job (killed, out of
// memory, a crash in a native addon). EngineClient has already said it restarts the engine; this is the
// job's own part: a training run resumes from its last checkpoint exactly (same losses as a run never
// stopped: train/trainer.ts), an evaluation runs again (same episodes, same result; nothing partial
// was saved). Free of the `vscode` import so the hardening suite checks it against a real killed engine.
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from './engineClient';

export interface Interruption {
  /** The notification text. */
  message: string;
  /** The button that continues. */
  action: 'Resume Training' | 'Evaluate Again';
  /** Training: the step a resume continues from (0: no checkpoint yet). */
  resumeStep?: number;
}

/** The job failed because its engine process ended (not because of its input or a cancel). */
export function engineWasLost(e: unknown): e is EngineError {
  const err = (e as { cause?: unknown })?.cause ?? e;
  return err instanceof EngineError && err.kind === 'restarted';
}

/** The step of the run's newest complete checkpoint (latest.json, written after the checkpoint). */
export function lastCheckpointStep(runDir: string): number | undefined {
  try {
    const l = JSON.parse(fs.readFileSync(path.join(runDir, 'latest.json'), 'utf8')) as { step?: unknown; checkpoint?: unknown };
    if (!Number.isInteger(l.step) || typeof l.checkpoint !== 'string' || !fs.existsSync(path.resolve(runDir, l.checkpoint))) return undefined;
    return l.step as number;
  } catch {
    return undefined;
  }
}

const why = (e: EngineError) => e.message.replace(/^engine restarted: /, '');

export function trainingInterruption(e: unknown, runDir: string, label: string): Interruption | undefined {
  if (!engineWasLost(e)) return undefined;
  const err = ((e as { cause?: unknown }).cause ?? e) as EngineError;
  const step = lastCheckpointStep(runDir);
  return {
    message: `ProtoLab: training ${label} stopped: ${why(err)}. ` + (step !== undefined
      ? `Its last checkpoint is step ${step}; Resume Training continues from there exactly (the same losses as a run never stopped).`
      : 'It had no checkpoint yet; Resume Training starts it again from step 0.'),
    action: 'Resume Training',
    resumeStep: step ?? 0,
  };
}

export function evaluationInterruption(e: unknown, label: string): Interruption | undefined {
  if (!engineWasLost(e)) return undefined;
  const err = ((e as { cause?: unknown }).cause ?? e) as EngineError;
  return {
    message: `ProtoLab: evaluation of ${label} stopped: ${why(err)}. Nothing partial was saved; Evaluate Again runs it anew (same episodes, same result).`,
    action: 'Evaluate Again',
  };
}
