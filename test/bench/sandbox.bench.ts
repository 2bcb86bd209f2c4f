// Benchmark (issue 15): a `sandbox` workspace's start, from `coder-git apply` to its agent connected:
//  - first start: the image made with debootstrap, the agent and its runtime downloaded;
//  - warm start (image and agent cached), median of N: goal <= 3 s;
// next to a floor measured in the same run: bwrap over the same image starting the cached agent
// directly (no terraform, no coder-git, no download) until it is connected.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../src/db/connect.ts';
import { stopEmbedded } from '../../src/db/embedded.ts';
import { buildServer } from '../../src/server/app.ts';
import { agents } from '../../src/db/repos/agents.ts';
import { initRepo } from '../../src/init.ts';
import { pgDataDir } from '../helpers/db.ts';
import { freePort } from '../helpers/wait.ts';

const BIN = fileURLToPath(new URL('../../bin/coder-git.js', import.meta.url));
const gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@e.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@e.com' };

function run(args: string[]): Promise<number> {
  return new Promise((resolve) => spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' }).on('close', (c) => resolve(c ?? 1)));
}

export async function benchSandbox(opts: { tmp: string; warm: number }): Promise<string[]> {
  const base = path.join(opts.tmp, 'sandbox');
  const repo = path.join(base, 'repo');
  const root = path.join(base, 'sandboxes');
  mkdirSync(base, { recursive: true });
  const port = await freePort();
  const data = pgDataDir('coder-git-bench-sandbox-');
  const d = await openDatabase({ dataDir: data });
  const app = await buildServer({ database: d, logger: false, heartbeatMs: 1000 });
  await app.listen({ host: '127.0.0.1', port });
  const lines: string[] = [];
  try {
    await initRepo({ dir: repo, admin: 'bench', adminEmail: 'bench@example.com', workspace: 'box', templates: ['sandbox'], accessUrl: `http://127.0.0.1:${port}`, commit: true });
    writeFileSync(path.join(repo, 'coder-git.yaml'), `apiVersion: coder-git/v1\nkind: Deployment\naccess_url: http://127.0.0.1:${port}\nterraform:\n  variables:\n    sandboxes_root: ${root}\n`);
    const state = (s: string) => {
      writeFileSync(path.join(repo, 'workspaces/bench/box.yaml'), `apiVersion: coder-git/v1\nkind: Workspace\ntemplate: sandbox\nstate: ${s}\n`);
      execFileSync('git', ['commit', '-qam', s], { cwd: repo, env: gitEnv });
    };
    const connectedSince = async (t: Date) => {
      for (const end = Date.now() + 600_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
        const r = await d.db.oneOrNone<{ at: Date }>('SELECT last_connected_at AS at FROM agents WHERE last_connected_at > $1 ORDER BY last_connected_at DESC LIMIT 1', [t]);
        if (r) return r.at.getTime() - t.getTime();
      }
      throw new Error('the agent did not connect within 10 minutes');
    };
    const startTimed = async () => {
      state('running');
      const t = new Date();
      if ((await run(['apply', '--auto-approve', '-C', repo, '--data-dir', data])) !== 0) throw new Error('apply failed');
      return connectedSince(t);
    };
    const stop = async () => {
      state('stopped');
      if ((await run(['apply', '--auto-approve', '-C', repo, '--data-dir', data])) !== 0) throw new Error('apply (stop) failed');
    };
    execFileSync('git', ['commit', '-qam', 'bench'], { cwd: repo, env: gitEnv });
    const first = await startTimed();
    const warm: number[] = [];
    for (let i = 0; i < opts.warm; i++) {
      await stop();
      warm.push(await startTimed());
    }
    await stop();
    // The floor: bwrap over the same image running the cached agent, nothing else.
    const home = path.join(root, 'homes', readdirSync(path.join(root, 'homes')).find((f) => !f.includes('.'))!);
    const cache = path.join(home, '.cache', 'coder-git-agent');
    const node = readdirSync(cache).find((f) => f.startsWith('node-'))!;
    const agent = readdirSync(cache).find((f) => f.startsWith('agent-'))!;
    const image = path.join(root, 'images', 'debian-bookworm-minbase');
    const w = await d.db.one<{ id: string }>("SELECT id FROM workspaces WHERE name = 'box'");
    // (the workspace's latest build is a stop: its agent row is gone; a fresh token for a stand-alone agent)
    const { createHash, randomBytes } = await import('node:crypto');
    const token = randomBytes(32).toString('base64url');
    const b = await d.db.one<{ id: string }>('SELECT latest_build_id AS id FROM workspaces WHERE id = $1', [w.id]);
    await agents.create(d.db, { workspace_id: w.id, build_id: b.id, token_hash: createHash('sha256').update(token).digest() });
    const floors: number[] = [];
    for (let i = 0; i < opts.warm; i++) {
      const t = new Date();
      const c = spawn('bwrap', ['--die-with-parent', '--unshare-user', '--unshare-pid', '--uid', '1000', '--gid', '1000', '--ro-bind', image, '/', '--tmpfs', '/home', '--bind', home, '/home/coder', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--chdir', '/home/coder', '--clearenv', '--setenv', 'HOME', '/home/coder', '--setenv', 'CODER_AGENT_URL', `http://127.0.0.1:${port}`, '--setenv', 'CODER_AGENT_TOKEN', token, `/home/coder/.cache/coder-git-agent/${node}`, `/home/coder/.cache/coder-git-agent/${agent}`], { stdio: 'ignore' });
      floors.push(await connectedSince(t));
      c.kill('SIGKILL');
      await new Promise((r) => c.on('close', r));
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    lines.push(`sandbox workspace start, coder-git apply → agent connected (bubblewrap, Debian minbase image)`);
    lines.push(`  first start (image made with debootstrap, agent downloaded)   ${(first / 1000).toFixed(1).padStart(6)} s`);
    lines.push(`  warm start, median of ${opts.warm} (image and agent cached)           ${(med(warm) / 1000).toFixed(2).padStart(6)} s   (goal <= 3 s)`);
    lines.push(`  floor: bwrap starting the cached agent directly, median      ${(med(floors) / 1000).toFixed(2).padStart(6)} s`);
    lines.push(`  ratio warm start / floor:                                   ${(med(warm) / med(floors)).toFixed(2)}x`);
  } finally {
    await app.close();
    await d.close();
    await stopEmbedded(data);
    for (const dir of [base, data]) rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
