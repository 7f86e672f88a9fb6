// `#node-io` outside Node (browsers, workers): no file system, so nothing here reaches node:fs and
// a bundler never has to stub it. exportOnnx and tritonConfig work everywhere; the file writers
// refuse with a pointer to them. Typed against the Node variant so both stay in step.
import { EbmError } from '@ebmjs/contract';
import type * as NodeIo from './node-io.node.js';

const unsupported = (path: string, instead: string): never => {
  throw new EbmError(
    'UNSUPPORTED',
    `Writing or reading "${path}" needs Node's file system; outside Node ${instead}.`,
    { path },
  );
};

export const writeFileAtomic: typeof NodeIo.writeFileAtomic = async (path, _bytes, options) =>
  unsupported(
    path,
    options?.caller === 'saveOnnx'
      ? 'call exportOnnx(model) and keep the bytes'
      : 'call tritonConfig(bytes) and write the repository yourself',
  );
export const readBytes: typeof NodeIo.readBytes = async (path) =>
  unsupported(path, 'pass the model bytes (Uint8Array) instead of a path');
export const joinPath: typeof NodeIo.joinPath = (...parts) => parts.join('/');
