// Step decay of the learning rate, as PANet's training (torch MultiStepLR, gamma 0.1, milestones every
// 10k of 30k steps; scheduler.step() after every optimizer.step()). `step` is the 0-based index of the
// step about to be taken, so step 10000 — the 10 001st update — is the first at lr·0.1, as in torch.
export interface LrSchedule {
  lr: number;
  /** Step indices from which the rate is multiplied by gamma once more (ascending). */
  milestones: number[];
  gamma: number;
}

export function lrAt(step: number, s: LrSchedule): number {
  // Repeated multiplication, as MultiStepLR applies gamma to the previous rate at each milestone.
  let lr = s.lr;
  for (const m of s.milestones) if (m <= step) lr *= s.gamma;
  return lr;
}
