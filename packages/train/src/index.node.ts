// The main entry under the "node" condition: the browser-safe entry plus, so that imports written
// before `@ebmjs/train/node` existed keep working in Node, the Node-only names again.
import * as node from './node.js';

export * from './index.js';

/** @deprecated Import from `@ebmjs/train/node` (the main entry also runs in browsers). */
export const loadMnist = node.loadMnist;
/** @deprecated Import from `@ebmjs/train/node` (the main entry also runs in browsers). */
export const loadFashionMnist = node.loadFashionMnist;
/** @deprecated Import from `@ebmjs/train/node` (the main entry also runs in browsers). */
export type LoadOptions = node.LoadOptions;
/** @deprecated Import from `@ebmjs/train/node` (the main entry also runs in browsers). */
export type Split = node.Split;
/** @deprecated Import from `@ebmjs/train/node` (the main entry also runs in browsers). */
export const imageFolder = node.imageFolder;
/** @deprecated Import from `@ebmjs/train/node` (the main entry also runs in browsers). */
export type ImageFolderOptions = node.ImageFolderOptions;
/** @deprecated Import from `@ebmjs/train/node` (the main entry also runs in browsers). */
export const writeFileAtomic = node.writeFileAtomic;
/** @deprecated Import from `@ebmjs/train/node` (the main entry also runs in browsers). */
export const saveCheckpoint = node.saveCheckpoint;
/** @deprecated Import from `@ebmjs/train/node` (the main entry also runs in browsers). */
export const loadCheckpoint = node.loadCheckpoint;
/** @deprecated Import from `@ebmjs/train/node` (the main entry also runs in browsers). */
export const metricsLog = node.metricsLog;
/** @deprecated Import from `@ebmjs/train/node` (the main entry also runs in browsers). */
export const readMetrics = node.readMetrics;
