// The package as users get it: `npm pack` of this checkout (the bundle built first, as npm's
// "prepare" would), and an install of that tarball into an empty prefix. Tarballs are named by
// their content, so npx's cache (keyed by the spec) never serves an older build under the same name.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './git.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = path.join(ROOT, 'test/.tmp/pack');

/** Packs this checkout; returns the tarball's absolute path. */
export function packedTarball(): string {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'pipe' });
  const out = tempDir('coder-git-pack-');
  // --ignore-scripts: "prepare" would build again, racing other test files that run the bundle.
  const [info] = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { filename: string; shasum: string }[];
  mkdirSync(CACHE, { recursive: true });
  const named = path.join(CACHE, info!.filename.replace(/\.tgz$/, `-${info!.shasum.slice(0, 12)}.tgz`));
  if (!existsSync(named)) renameSync(path.join(out, info!.filename), named);
  // keep the few newest: one per source change would pile up in a checkout
  const old = readdirSync(CACHE).map((f) => path.join(CACHE, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs).slice(4);
  for (const f of old) if (f !== named) rmSync(f, { force: true });
  return named;
}

/**
 * `npm install <tarball>` into a new, empty folder; returns the folder and its coder-git binary.
 * With --ignore-scripts, as the strictest consumer installs (npm's allowScripts, pnpm): no
 * dependency's install script runs, and coder-git must work without them.
 */
export function installTarball(tarball: string): { prefix: string; bin: string } {
  const prefix = tempDir('coder-git-installed-');
  execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], {
    cwd: prefix,
    stdio: 'pipe',
    timeout: 300_000,
    env: { ...process.env, npm_config_prefix: prefix },
  });
  return { prefix, bin: path.join(prefix, 'node_modules/.bin/coder-git') };
}
