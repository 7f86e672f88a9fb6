// `@ebmjs/models/node`: the Node-only part of the package (the main entry runs in browsers too).
export { directoryStorage } from './fs-storage.js';
