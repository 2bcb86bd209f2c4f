#!/usr/bin/env node
// Runs dist/coder-git.mjs, the bundle `npm install` builds (scripts/build.mjs), when it is at least as
// new as every file in src/; otherwise the TypeScript sources through tsx's loader. Nothing compiled
// is committed, and a stale bundle is never run. CODER_GIT_FROM_SOURCE=1 forces the sources.
import { readdirSync, statSync } from 'node:fs';

const src = new URL('../src/', import.meta.url);
const dist = new URL('../dist/coder-git.mjs', import.meta.url);

function bundleIsFresh() {
  if (process.env.CODER_GIT_FROM_SOURCE) return false;
  let built;
  try {
    built = statSync(dist).mtimeMs;
  } catch {
    return false;
  }
  for (const e of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && statSync(`${e.parentPath}/${e.name}`).mtimeMs > built) return false;
  }
  return true;
}

let main;
if (bundleIsFresh()) {
  ({ main } = await import(dist.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main();
