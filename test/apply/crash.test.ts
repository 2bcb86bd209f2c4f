// coder-git SIGKILLed in the middle of an apply, then apply again: nothing Terraform created is lost
// and nothing is created twice. A template of five chained resources counts its local-exec side
// effects; coder-git is killed after 1, 2 and 4 of them. Killing `apply` alone leaves its build's own
// process to finish the build; killing that process too (as when the machine goes down, except that
// Terraform survives here) leaves the next apply to adopt the orphaned Terraform and build again.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, cli } from '../helpers/cli.ts';
import { cleanup, commitAll, gitRepo, tempDir } from '../helpers/git.ts';
import { stopOwnServer, testDatabase } from '../helpers/db.ts';
import { loadAppliedState } from '../../src/db/state.ts';

const RESOURCES = 5;

function slowModule(effects: string): string {
  return Array.from({ length: RESOURCES }, (_, i) =>
    [
      `resource "terraform_data" "r${i}" {`,
      ...(i ? [`  depends_on = [terraform_data.r${i - 1}]`] : []),
      '  provisioner "local-exec" {',
      `    command = "echo r${i} >> ${effects}; sleep 0.6"`,
      '  }',
      '}',
      '',
    ].join('\n'),
  ).join('\n');
}

const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : []);

for (const [killAfter, alsoBuildProcess] of [[1, false], [2, true], [4, false], [4, true]] as const) {
  test(`${alsoBuildProcess ? 'apply and its build process' : 'apply'} killed after ${killAfter} of ${RESOURCES} resources: apply again converges, every resource created once`, async () => {
    const d = await testDatabase();
    try {
      const base = tempDir();
      const effects = path.join(base, 'side-effects');
      const data = path.join(base, 'data');
      const repo = gitRepo({
        'coder-git.yaml': 'apiVersion: coder-git/v1\nkind: Deployment\n',
        'users/alice.yaml': 'apiVersion: coder-git/v1\nkind: User\nemail: alice@example.com\n',
        'templates/slow/template.yaml': 'apiVersion: coder-git/v1\nkind: Template\n',
        'templates/slow/main.tf': slowModule(effects),
        'workspaces/alice/dev.yaml': 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: slow\n',
      });
      const env = { ...process.env, CODER_GIT_BUILD_LEASE_SECONDS: '2', NO_COLOR: '1' };
      const args = [BIN, 'apply', '--auto-approve', '-C', repo, '--postgres-url', d.url, '--data-dir', data];
      const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
      const deadline = Date.now() + 60_000;
      while (lines(effects).length < killAfter && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const buildProcess = execFileSync('pgrep', ['-P', String(child.pid), '-f', 'build-process'], { encoding: 'utf8' }).trim();
      child.kill('SIGKILL');
      if (alsoBuildProcess) process.kill(Number(buildProcess), 'SIGKILL');
      await new Promise((r) => child.on('close', r));
      assert.ok(lines(effects).length >= killAfter, 'killed mid-apply');
      assert.ok(lines(effects).length < RESOURCES, 'killed before the end');

      const again = await cli(args.slice(1), { env: { CODER_GIT_BUILD_LEASE_SECONDS: '2' }, timeoutMs: 120_000 });
      assert.is(again.code, 0, again.stdout + again.stderr);
      assert.equal(lines(effects), Array.from({ length: RESOURCES }, (_, i) => `r${i}`), 'each resource created exactly once');
      const s = await loadAppliedState(d.db);
      assert.is(s.workspaces.get('alice/dev')!.build_status, 'succeeded');
      const builds = await d.db.any<{ status: string }>('SELECT status FROM workspace_builds ORDER BY build_number');
      if (alsoBuildProcess) assert.equal(builds.map((b) => b.status), ['interrupted', 'succeeded'], 'the killed build is interrupted, then built again');
      else assert.equal(builds.map((b) => b.status), ['succeeded'], "the build finished in its own process: nothing to build again");
      const state = await d.db.one<{ state: Buffer }>('SELECT state FROM terraform_states ORDER BY id DESC LIMIT 1');
      const recorded = JSON.parse(state.state.toString()).resources.map((r: { name: string }) => r.name).sort();
      assert.equal(recorded, Array.from({ length: RESOURCES }, (_, i) => `r${i}`), 'every resource is in the saved state');
      const third = await cli(['plan', '-C', repo, '--postgres-url', d.url, '--data-dir', data]);
      assert.match(third.stdout, /No changes/);
    } finally {
      await d.drop();
    }
  });
}

test('cleanup', async () => {
  await stopOwnServer();
  cleanup();
});
test.run();
