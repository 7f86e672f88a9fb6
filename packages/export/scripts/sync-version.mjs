// Writes src/version.ts from package.json's version. Runs before every build and after
// `changeset version` (the root's `version-packages`), so the version written into exported
// models is the package's own without a JSON import (the build's rootDir stays `src`).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const file = join(root, 'src', 'version.ts');
const text = `/**
 * The ebm.js version written into exported models. Generated from package.json by
 * scripts/sync-version.mjs (before each build and by \`pnpm version-packages\`); do not edit.
 */
export const EBMJS_VERSION = '${version}';
`;
let current = '';
try {
  current = readFileSync(file, 'utf8');
} catch {}
if (current !== text) {
  writeFileSync(file, text);
  console.log(`src/version.ts: EBMJS_VERSION = '${version}'`);
}
