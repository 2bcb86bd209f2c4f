// Where coder-git's own files (package.json, schemas/, templates/, ci/) are: the package root,
// found by walking up from this module, so the same code works from src/ and from the dist/ bundle.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'schemas'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`coder-git's package root was not found above ${from}`);
  }
}

export const PKG_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

export function pkgPath(...parts: string[]): string {
  return path.join(PKG_ROOT, ...parts);
}
