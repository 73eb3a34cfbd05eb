// tf.grad needs gradient functions registered for every kernel it differentiates. tfjs-core's Node (CJS)
// build registers none, and its ESM dist/register_all_gradients cannot be loaded by Node directly (its
// imports have no file extensions). The @tensorflow/tfjs umbrella's Node bundle registers all of them,
// and tfjs keeps the gradient registry (like the engine and the kernel registry) in one global shared by
// every tfjs-core copy in the process — so loading the umbrella once makes tf.grad work for our tensors.
// Only training needs this; inference never loads it.
let loaded = false;

export function ensureGradients(): void {
  if (loaded) return;
  // A computed name keeps bundlers from inlining a second tfjs into the engine bundle.
  const umbrella = ['@tensorflow', 'tfjs'].join('/');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(umbrella);
  loaded = true;
}
