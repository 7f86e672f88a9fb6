// `#node-io` in Node: string save targets are directories on the local file system.
export { directoryStorage } from './fs-storage.js';
