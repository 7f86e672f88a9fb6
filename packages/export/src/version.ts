/**
 * The ebm.js version written into exported models. Kept equal to package.json's version by a test
 * (a source constant, not a JSON import, so that the build's rootDir stays `src`).
 */
export const EBMJS_VERSION = '0.0.0';
