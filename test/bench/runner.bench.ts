// Benchmark (issue 5): reaction time of the runner: a commit to a watched local repository → the
// first build of it started (build.started_at), 20 times; median and max, next to the default poll
// intervals of Flux (60 s) and Argo CD (180 s).
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../src/db/connect.ts';
import { stopEmbedded } from '../../src/db/embedded.ts';
import { pgDataDir } from '../helpers/db.ts';

const BIN = fileURLToPath(new URL('../../bin/coder-git.js', import.meta.url));
const gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@e.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@e.com' };

export async function benchRunner(opts: { tmp: string; commits: number }): Promise<string[]> {
  const base = path.join(opts.tmp, 'runner');
  const repo = path.join(base, 'repo');
  mkdirSync(path.join(repo, 'templates/plain'), { recursive: true });
  mkdirSync(path.join(repo, 'users'), { recursive: true });
  mkdirSync(path.join(repo, 'workspaces/alice'), { recursive: true });
  writeFileSync(path.join(repo, 'coder-git.yaml'), 'apiVersion: coder-git/v1\nkind: Deployment\n');
  writeFileSync(path.join(repo, 'users/alice.yaml'), 'apiVersion: coder-git/v1\nkind: User\nemail: alice@example.com\n');
  writeFileSync(path.join(repo, 'templates/plain/template.yaml'), 'apiVersion: coder-git/v1\nkind: Template\nparameters:\n  n: { type: integer, default: 0 }\n');
  writeFileSync(path.join(repo, 'templates/plain/main.tf'), 'variable "n" {\n  type = number\n}\n\nresource "terraform_data" "x" {\n  input = var.n\n}\n');
  const ws = (n: number) => writeFileSync(path.join(repo, 'workspaces/alice/dev.yaml'), `apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\nparameters: { n: ${n} }\n`);
  ws(0);
  const git = (...a: string[]) => execFileSync('git', a, { cwd: repo, env: gitEnv, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'start');
  const data = pgDataDir('coder-git-bench-runner-');
  const d = await openDatabase({ dataDir: data });
  const runner = spawn(process.execPath, [BIN, 'runner', '--repo', repo, '--data-dir', data, '--workers', '2'], { stdio: 'ignore' });
  const waitFor = async (sql: string, args: unknown[]) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await d.db.oneOrNone<{ at: Date }>(sql, args);
      if (r?.at) return r.at;
      if (Date.now() > deadline) throw new Error('the runner did not react within 60s');
      await new Promise((res) => setTimeout(res, 20));
    }
  };
  const lines: string[] = [];
  try {
    await waitFor("SELECT finished_at AS at FROM syncs WHERE status = 'applied' ORDER BY id DESC LIMIT 1", []);
    const samples: number[] = [];
    for (let i = 1; i <= opts.commits; i++) {
      ws(i);
      git('add', '-A');
      const before = new Date();
      git('commit', '-qm', `n=${i}`);
      const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
      const started = await waitFor('SELECT b.started_at AS at FROM workspace_builds b JOIN syncs s ON s.id = b.sync_id WHERE s.commit_sha = $1 ORDER BY b.started_at LIMIT 1', [sha]);
      samples.push(started.getTime() - before.getTime());
      await waitFor("SELECT finished_at AS at FROM syncs WHERE commit_sha = $1 AND status = 'applied'", [sha]);
    }
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)]!;
    lines.push(`runner reaction: commit to a watched local repo → first build started (${opts.commits} commits)`);
    lines.push(`  median ${median} ms, max ${samples.at(-1)} ms, min ${samples[0]} ms   (goal: median <= 1000 ms; Flux polls every 60 s, Argo CD every 180 s by default)`);
  } finally {
    runner.kill('SIGTERM');
    await new Promise((r) => runner.on('close', r));
    await d.close();
    await stopEmbedded(data);
    for (const dir of [base, data]) rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
