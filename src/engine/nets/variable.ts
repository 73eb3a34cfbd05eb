// tf.variable(t) shares t's data but leaves the tensor object t registered with the engine until it is
// disposed, so `tf.variable(tf.tensor(…))` leaks one tensor per parameter. Building the initial value
// inside tf.tidy disposes it (variables are never disposed by tidy).
import * as tf from '@tensorflow/tfjs-core';

export function newVariable(make: () => tf.Tensor, trainable = true, name?: string): tf.Variable {
  return tf.tidy(() => tf.variable(make(), trainable, name));
}
