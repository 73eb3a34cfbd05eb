// SGD with momentum and weight decay, exactly as torch.optim.SGD (dampening 0, not Nesterov), which PANet
// trains with (momentum 0.9, weight_decay 5e-4):
//   d = g + wd·p        (weight decay as L2 added to the gradient)
//   b = μ·b + d         (torch starts b at d on the first step; b = 0 initially gives μ·0 + d = d exactly)
//   p = p − lr·b
// Written out rather than tf.train.momentum because the momentum buffers must be saved in checkpoints and
// restored bit for bit (exact resume), and tfjs's optimizer has no weight decay.
import * as tf from '@tensorflow/tfjs-core';
import { newVariable } from '../nets/variable';

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
}

export class SgdMomentum {
  /** Momentum buffer per parameter name; same names as the parameters. */
  readonly buffers: Record<string, tf.Variable>;

  constructor(readonly params: Record<string, tf.Variable>, readonly opts: SgdOptions) {
    this.buffers = {};
    for (const [name, p] of Object.entries(params)) this.buffers[name] = newVariable(() => tf.zerosLike(p), false);
  }

  /**
   * One update with the gradients by parameter name. A parameter without a gradient (the loss does not
   * reach it this episode) is treated as having gradient 0: weight decay and momentum still apply, as
   * torch does once zero_grad() has left zero-filled .grad tensors.
   */
  step(grads: Record<string, tf.Tensor>, lr: number): void {
    const { momentum, weightDecay } = this.opts;
    tf.tidy(() => {
      for (const [name, p] of Object.entries(this.params)) {
        const g = grads[name] ?? tf.zerosLike(p);
        const d = weightDecay !== 0 ? tf.add(g, tf.mul(p, weightDecay)) : g;
        const b = this.buffers[name];
        const nb = tf.add(tf.mul(b, momentum), d);
        b.assign(nb);
        p.assign(tf.sub(p, tf.mul(nb, lr)));
      }
    });
  }

  /** Replace the buffers' values (resume). Every buffer must be given, with its shape. */
  load(values: Record<string, tf.Tensor>): void {
    for (const [name, b] of Object.entries(this.buffers)) {
      const v = values[name];
      if (!v) throw new Error(`optimizer state has no momentum buffer for '${name}'`);
      if (v.shape.join(',') !== b.shape.join(',')) throw new Error(`momentum buffer '${name}' has shape [${v.shape}], expected [${b.shape}]`);
      b.assign(v);
    }
  }

  dispose(): void {
    for (const b of Object.values(this.buffers)) b.dispose();
  }
}
