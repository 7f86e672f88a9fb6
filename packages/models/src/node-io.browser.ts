// `#node-io` outside Node (browsers, workers): there is no file system, so a string save target
// is refused with a pointer to `Storage`. Typed against the Node variant so both stay in step.
import { EbmError } from '@ebmjs/contract';
import type * as NodeIo from './node-io.node.js';

export const directoryStorage: typeof NodeIo.directoryStorage = (dir) => {
  throw new EbmError(
    'UNSUPPORTED',
    `A directory path needs Node's file system; outside Node save to a Storage object (memoryStorage(), or an IndexedDB/OPFS one), received the path "${dir}".`,
    { path: dir },
  );
};
