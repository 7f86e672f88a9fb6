// Loads tfjs-core's main entry before anything imports @ebmjs/core: core imports
// '@tensorflow/tfjs-core/dist/register_all_gradients.js', which in Node is a second copy of
// tfjs-core; if that copy loads first its Tensor class (without chained ops) becomes the global
// one and `tensor.clone()` / `.cast()` throw "Cannot read properties of null".
import '@tensorflow/tfjs-core';
