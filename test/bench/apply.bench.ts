// Benchmarks (issue 4), in one run on one machine:
//  1. apply of N workspaces on the built-in `local` template with 4 workers, against bare terraform
//     doing the same work: `init` + `apply` of the same module in N folders, 4 at a time;
//  2. a plan with no changes on the 30k-object repo, everything applied: time (whole process, against
//     validate in the same run) and SQL queries (in-process);
//  3. one workspace file changed on that repo: how many workspaces terraform plans;
//  4. the runner's tick on that repo's unchanged tip, with the commit cached, against the first tick;
//  5. every user's git SSH key made on that repo's first apply with encryption keys, against bare key generation.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, queryCount } from '../../src/db/connect.ts';
import { stopEmbedded } from '../../src/db/embedded.ts';
import { loadConfig } from '../../src/config/index.ts';
import { makePlan, writeChanges } from '../../src/apply/apply.ts';
import { syncCommit } from '../../src/apply/sync.ts';
import { TerraformDriver } from '../../src/terraform/driver.ts';
import { initRepo } from '../../src/init.ts';
import { pgDataDir } from '../helpers/db.ts';
import { generateRepo, FULL } from './generate.ts';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { keyring } from '../../src/auth/secret-box.ts';
import { ensureGitSshKeys } from '../../src/auth/git-ssh.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(root, 'bin/coder-git.js');
const gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@e.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@e.com' };
const git = (cwd: string, ...a: string[]) => execFileSync('git', a, { cwd, env: gitEnv, stdio: 'ignore' });
const tfEnv = { ...process.env, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' };

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: 'ignore' });
    c.on('error', reject);
    c.on('close', (code) => resolve(code ?? 1));
  });
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function benchApply(opts: { tmp: string; workspaces: number }): Promise<string[]> {
  const N = opts.workspaces;
  const lines: string[] = [];
  const base = path.join(opts.tmp, 'apply');
  mkdirSync(base, { recursive: true, mode: 0o711 });

  // 1. Bare terraform: the local module in N folders, init + apply, 4 at a time.
  const bareRoot = path.join(base, 'bare-ws');
  const dirs = Array.from({ length: N }, (_, i) => path.join(base, 'bare', `w${i}`));
  for (const d of dirs) cpSync(path.join(root, 'templates/local'), d, { recursive: true });
  const cache = path.join(base, 'bare-plugin-cache');
  mkdirSync(cache, { recursive: true });
  const vars = (i: number) => ['-var', `coder_workspace_owner=bench`, '-var', `coder_workspace_name=w${i}`, '-var', `workspaces_root=${bareRoot}`, '-var', 'motd=hi', '-var', 'init_git=false', '-var', `coder_agent_token=t${i}`];
  const bareMs = await timed(() =>
    pool(dirs.map((d, i) => [d, i] as const), 4, async ([d, i]) => {
      const env = { ...tfEnv, TF_PLUGIN_CACHE_DIR: cache };
      if ((await run('terraform', ['init', '-input=false', '-no-color'], { cwd: d, env })) !== 0) throw new Error(`bare init failed in ${d}`);
      if ((await run('terraform', ['apply', '-auto-approve', '-input=false', '-no-color', ...vars(i)], { cwd: d, env })) !== 0) throw new Error(`bare apply failed in ${d}`);
    }),
  );
  await pool(dirs.map((d, i) => [d, i] as const), 4, async ([d, i]) => {
    await run('terraform', ['destroy', '-auto-approve', '-input=false', '-no-color', ...vars(i)], { cwd: d, env: tfEnv });
  });

  // ... and coder-git: a repo with N workspaces on local, applied with 4 workers.
  const repo = path.join(base, 'repo');
  const wsRoot = path.join(base, 'cg-ws');
  await initRepo({ dir: repo, admin: 'bench', adminEmail: 'bench@example.com', workspace: 'w0', templates: ['local'], accessUrl: 'http://127.0.0.1:3000', commit: false });
  writeFileSync(path.join(repo, 'coder-git.yaml'), `apiVersion: coder-git/v1\nkind: Deployment\nterraform:\n  parallelism: 4\n  variables:\n    workspaces_root: ${wsRoot}\n`);
  for (let i = 1; i < N; i++) writeFileSync(path.join(repo, `workspaces/bench/w${i}.yaml`), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: local\n');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'bench');
  const data = pgDataDir('coder-git-bench-apply-');
  // (no agents: the bare runs start the template's stand-in process, so coder-git's runs do too)
  const cgArgs = ['--data-dir', data, '-C', repo];
  await run(process.execPath, [BIN, 'db', 'migrate', ...cgArgs]); // initdb outside the timing
  const keep = await openDatabase({ dataDir: data }); // keeps the server up between commands
  const cgMs = await timed(async () => {
    if ((await run(process.execPath, [BIN, 'apply', '--auto-approve', '--parallelism', '4', '--agent-command', '', ...cgArgs])) !== 0) throw new Error('coder-git apply failed');
  });
  const built = await keep.db.one<{ n: number }>("SELECT count(*)::int AS n FROM workspace_builds WHERE status = 'succeeded'");
  lines.push(`apply: ${N} workspaces on the local template, 4 at a time (init + apply each)`);
  lines.push(`  bare terraform (init + apply in ${N} folders)     ${(bareMs / 1000).toFixed(1).padStart(6)} s`);
  lines.push(`  coder-git apply --parallelism 4                 ${(cgMs / 1000).toFixed(1).padStart(6)} s   (${built.n} builds succeeded)`);
  lines.push(`  ratio coder-git / bare terraform:              ${(cgMs / bareMs).toFixed(2)}x   (goal <= 1.2x)`);
  // Tear down: every workspace removed from git, destroyed.
  git(repo, 'rm', '-rq', 'workspaces');
  git(repo, 'commit', '-qm', 'remove');
  await run(process.execPath, [BIN, 'apply', '--auto-approve', '--allow-destroy', '--parallelism', '4', '--agent-command', '', ...cgArgs]);
  await keep.close();

  // 2 and 3: the 30k repo, everything applied (metadata written, builds marked succeeded).
  const big = path.join(base, 'big');
  generateRepo(big, FULL);
  const bigData = pgDataDir('coder-git-bench-plan-');
  const d = await openDatabase({ dataDir: bigData });
  try {
    const { source, result } = await loadConfig({ dir: big, ref: 'HEAD' });
    const desired = result.state!;
    await writeChanges(d.db, desired, { commit: source.commit!, ref: 'HEAD', allowDestroy: false, maxDestroy: 5 });
    await d.db.none("UPDATE workspace_builds SET status = 'succeeded', finished_at = now(); DELETE FROM build_jobs; UPDATE workspaces SET build_lease_by = NULL, build_lease_until = NULL");
    const q0 = queryCount();
    const inProcess = await timed(() => makePlan(d.db, desired));
    const queries = queryCount() - q0;
    const cli = (cmd: string[]) => timed(async () => {
      if ((await run(process.execPath, [BIN, ...cmd, '-C', big])) > 1) throw new Error(`${cmd.join(' ')} failed`);
    });
    const planMs = [];
    const validateMs = [];
    for (let i = 0; i < 3; i++) {
      planMs.push(await cli(['plan', '--ref', 'HEAD', '--data-dir', bigData]));
      validateMs.push(await cli(['validate', '--ref', 'HEAD']));
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    lines.push(`plan with no changes: ${FULL.users} users, ${FULL.templates} templates, ${FULL.workspaces} workspaces, all applied`);
    lines.push(`  coder-git plan --ref HEAD (process, median of 3)  ${(med(planMs) / 1000).toFixed(2)} s`);
    lines.push(`  coder-git validate --ref HEAD (same run)          ${(med(validateMs) / 1000).toFixed(2)} s`);
    lines.push(`  ratio plan / validate:                           ${(med(planMs) / med(validateMs)).toFixed(2)}x   (goal <= 1.5x)`);
    lines.push(`  SQL queries for the plan (in-process, ${(inProcess / 1000).toFixed(2)} s):       ${queries}  (the same for any number of objects)`);

    // 4. The runner's tick on an unchanged tip (every 5 s, and after every finished build): the
    // one sync path with the commit cached by SHA, against loading and validating it again, which
    // is what every tick did before the cache.
    const sha = source.commit!.sha;
    const cold = await timed(() => syncCommit({ db: d.db, dir: big, sha, ref: 'main', allowDestroy: false, maxDestroy: 5 }));
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push(await timed(() => syncCommit({ db: d.db, dir: big, sha, ref: 'main', allowDestroy: false, maxDestroy: 5 })));
    const reload = await timed(() => loadConfig({ dir: big, ref: sha }));
    const w = [...warm].sort((a, b) => a - b)[2]!;
    lines.push(`runner tick on an unchanged tip (${FULL.workspaces} workspaces): the sync path, in-process`);
    lines.push(`  first tick (load + validate + plan)             ${(cold / 1000).toFixed(2)} s`);
    lines.push(`  later ticks (commit cached by SHA, median of 5) ${(w / 1000).toFixed(2)} s`);
    lines.push(`  loading and validating the commit again         ${(reload / 1000).toFixed(2)} s   (what each tick also did before)`);
    lines.push(`  ratio later tick / first tick:                 ${(w / cold).toFixed(2)}x`);

    // 5. Every user's git SSH key on the first apply with encryption keys: our step (find who has
    // none, make, seal and insert) against bare Ed25519 key generation of as many keys.
    const ring = keyring([randomBytes(32)]);
    const made = { n: 0 };
    const ours = await timed(async () => (made.n = await d.db.tx((t) => ensureGitSshKeys(t, ring))));
    const bare = await timed(async () => {
      for (let i = 0; i < made.n; i++) generateKeyPairSync('ed25519');
    });
    lines.push(`git SSH keys for ${made.n} users on the first apply with CODER_GIT_ENCRYPTION_KEYS (in-process)`);
    lines.push(`  coder-git (query, generate, seal, insert)       ${(ours / 1000).toFixed(2)} s`);
    lines.push(`  bare generateKeyPairSync('ed25519') x ${made.n}     ${(bare / 1000).toFixed(2)} s`);
    lines.push(`  ratio:                                          ${(ours / bare).toFixed(2)}x`);

    // 3. One workspace file changed: terraform plans that one workspace only.
    execFileSync('sed', ['-i', 's/cpu: 2/cpu: 3/', path.join(big, 'workspaces/user1/ws1.yaml')]);
    git(big, 'commit', '-qam', 'one change');
    const changed = await loadConfig({ dir: big, ref: 'HEAD' });
    let runs = 0;
    const counting = new (class extends TerraformDriver {
      override async run(args: string[], o: Parameters<TerraformDriver['run']>[1]) {
        if (args[0] === 'plan') runs++;
        return super.run(args, o);
      }
    })({ binary: 'terraform', passEnv: [], pluginCacheDir: path.join(base, 'plan-cache') });
    const p = await makePlan(d.db, changed.result.state!, { driver: counting, parallelism: 4 });
    const building = p.plan.workspaces.filter((w) => w.build).length;
    lines.push(`one workspace file changed: ${building} workspace(s) to build, ${runs} terraform plan run(s)   (goal: exactly 1)`);
  } finally {
    await d.close();
    await stopEmbedded(bigData);
    await stopEmbedded(data);
    for (const dir of [base, bigData, data]) rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
