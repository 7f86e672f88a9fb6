// Bundlers resolve tfjs-core's ESM gradient registration (as `@tensorflow/tfjs` itself does),
// so browser bundles register gradients without pulling in the whole umbrella package.
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
