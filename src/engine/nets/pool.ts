// torch.nn.MaxPool2d(kernel_size=3, stride=s, padding=1), as PANet's encoder uses it.
//
// Why explicit padding: tfjs 'same' pads asymmetrically (all the extra on the bottom/right), so for an
// even input size its windows start one pixel later than torch's (torch pads 1 on every side). We pad
// 1 on every side with -Infinity (torch's max-pool padding never wins a max) and pool 'valid'.
// Output size: floor((H + 2 - 3) / s) + 1, i.e. ceil(H / 2) for s = 2 and H for s = 1.
import * as tf from '@tensorflow/tfjs-core';

export function maxPool3x3(x: tf.Tensor4D, stride: 1 | 2): tf.Tensor4D {
  return tf.tidy(() => {
    const xp = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], -Infinity);
    return tf.maxPool(xp, 3, stride, 'valid');
  });
}

/** Output side of maxPool3x3 for an input side n (torch's formula, floor mode). */
export function maxPool3x3OutSize(n: number, stride: 1 | 2): number {
  return Math.floor((n + 2 - 3) / stride) + 1;
}
