// tfjs-core registers op gradients only through this side-effect module (the `@tensorflow/tfjs`
// umbrella imports it; tfjs-core's index does not). Samplers and losses differentiate, so core
// loads it once for everyone. Listed in package.json `sideEffects` so bundlers keep it.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
