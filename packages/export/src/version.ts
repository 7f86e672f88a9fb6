/**
 * The ebm.js version written into exported models. Generated from package.json by
 * scripts/sync-version.mjs (before each build and by `pnpm version-packages`); do not edit.
 */
export const EBMJS_VERSION = '0.0.0';
