// tfjs-core registers op gradients only through `@tensorflow/tfjs-core/dist/register_all_gradients`,
// an ESM file with extensionless imports that Node cannot load. In Node the gradients come from
// the `@tensorflow/tfjs` bundle instead, which registers them in tfjs's global gradient registry
// (shared by every copy of tfjs-core). tfjs-core is imported first so that its full copy, not
// the bundle's, creates the global engine.
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
