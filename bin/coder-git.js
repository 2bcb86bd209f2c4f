#!/usr/bin/env node
// Chooses what runs, without looking at mtimes (npm gives every file of a tarball the same one):
// - an installed package (no .git beside it) runs its bundle, dist/coder-git.mjs, built when the
//   package was packed;
// - a git checkout runs the bundle only when dist/build.json shows it was built from the sources
//   as they are now (a SHA-256 of every source file that went into it), else the TypeScript
//   sources through tsx's loader. CODER_GIT_FROM_SOURCE=1 forces the sources.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = new URL('../dist/coder-git.mjs', import.meta.url);

function bundleMatchesSources() {
  let info;
  try {
    info = JSON.parse(readFileSync(new URL('../dist/build.json', import.meta.url), 'utf8'));
  } catch {
    return false;
  }
  const hash = createHash('sha256');
  try {
    for (const f of info.sources) hash.update(f).update('\0').update(readFileSync(root + f)).update('\0');
  } catch {
    return false; // a source file was removed or renamed since the build
  }
  return hash.digest('hex') === info.sourcesSha256;
}

function useBundle() {
  if (process.env.CODER_GIT_FROM_SOURCE) return false;
  if (!existsSync(dist)) return false;
  return existsSync(new URL('../.git', import.meta.url)) ? bundleMatchesSources() : true;
}

let main;
if (useBundle()) {
  ({ main } = await import(dist.href));
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('coder-git: this copy has no bundle (dist/coder-git.mjs) and no tsx to run its sources; run `npm run build` in it, or reinstall the package\n');
    process.exit(1);
  }
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main();
