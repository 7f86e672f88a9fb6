// Op gradients live in tfjs's global registry, which @ebmjs/core fills on import; this package
// does not depend on core, so its tests fill it the way core's Node entry does.
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
