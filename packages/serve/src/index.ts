export { Batcher, type BatcherOptions } from './batcher.js';
export { type ErrorBody, toErrorResponse } from './http-errors.js';
export type { ServerMetrics } from './metrics.js';
export { createServer, type EbmServer, type ServeOptions } from './server.js';
