/**
 * Reads a file shipped inside an installed npm package, or returns null when the package is not
 * installed. Resolution starts from this module, so the package must be a dependency of the
 * app (it is an optional peer of @ebmjs/train).
 */
export async function readPackageFile(pkg: string, file: string): Promise<Uint8Array | null> {
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const { readFile } = await import('node:fs/promises');
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return null;
  }
  return new Uint8Array(await readFile(join(root, file)));
}
