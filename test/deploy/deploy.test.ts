// The deployment recipes (Dockerfile, deploy/helm, deploy/systemd), checked without Docker, a
// cluster or systemd running: every flag and CODER_GIT_* variable they use is one the commands
// really take (read from their --help), every file the image needs is copied into it (the build
// stage is reproduced in a temp folder and the result runs), the units pass systemd-analyze verify,
// and the chart's templates only use values and helpers that exist.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { BIN, cli } from '../helpers/cli.ts';
import { cleanup, tempDir } from '../helpers/git.ts';

const ROOT = path.resolve(path.dirname(BIN), '..');
const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; engines: { node: string } };

/** What a command accepts, from its own --help: flags and the CODER_GIT_* variables it reads. */
async function accepts(command: string): Promise<{ flags: Set<string>; env: Set<string> }> {
  const r = await cli([command, '--help']);
  const text = r.stdout.replace(/\s+/g, ' ');
  return { flags: new Set(text.match(/--[a-z][a-z-]*/g)), env: new Set([...text.matchAll(/\[env: (CODER_GIT_\w+)\]/g)].map((m) => m[1]!)) };
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'))
    .map((l) => {
      const m = /^\s*(\w+)\s+(.*)$/.exec(l)!;
      return { op: m[1]!.toUpperCase(), args: m[2]!.trim() };
    });
}

/** Tracked top-level entries that the image does not need: tests, recipes, repo housekeeping. */
const NOT_IN_IMAGE = new Set(['test', 'deploy', '.ci', 'Dockerfile', '.dockerignore', '.gitignore', 'README.md', 'tsconfig.json']);

test('Dockerfile: node as in package.json, every runtime folder copied, unprivileged, real command and variables', async () => {
  const ins = instructions(read('Dockerfile'));
  const args = Object.fromEntries(ins.filter((i) => i.op === 'ARG' && i.args.includes('=')).map((i) => i.args.split('=') as [string, string]));
  assert.is(args.NODE_VERSION, /\d+/.exec(pkg.engines.node)![0], 'the image runs the Node major of engines.node');
  const froms = ins.filter((i) => i.op === 'FROM').map((i) => i.args);
  assert.equal(froms, ['node:${NODE_VERSION}-bookworm-slim AS build', 'node:${NODE_VERSION}-bookworm-slim']);

  const copied = ins.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1)).map((s) => s.replace(/\/$/, ''));
  for (const c of copied) assert.ok(existsSync(path.join(ROOT, c)), `COPY ${c}: exists`);
  const tracked = new Set(execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.split('/')[0]!));
  for (const t of tracked) assert.ok(copied.includes(t) || NOT_IN_IMAGE.has(t), `${t} is copied into the image, or listed as not needed there`);
  const ignored = read('.dockerignore').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  for (const c of copied) assert.not.ok(ignored.includes(c), `.dockerignore does not drop ${c}`);

  assert.match(read('Dockerfile'), /sha256sum -c -/, 'terraform is checked against its SHA256SUMS');
  const tf = execFileSync('terraform', ['version', '-json'], { encoding: 'utf8' });
  assert.is(args.TERRAFORM_VERSION!.split('.').slice(0, 2).join('.'), (JSON.parse(tf).terraform_version as string).split('.').slice(0, 2).join('.'), 'the image has the terraform minor the tests run');
  const user = ins.filter((i) => i.op === 'USER').at(-1)!.args;
  assert.match(user, /^[1-9]\d*:[1-9]\d*$/, 'runs as a numeric non-root user (runAsNonRoot can check it)');
  const entry = JSON.parse(ins.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
  assert.equal(entry, ['tini', '--', 'coder-git']);
  const cmd = JSON.parse(ins.find((i) => i.op === 'CMD')!.args) as string[];
  const server = await accepts(cmd[0]!);
  const env = ins.filter((i) => i.op === 'ENV').flatMap((i) => [...i.args.matchAll(/(\w+)=/g)].map((m) => m[1]!));
  for (const e of env.filter((e) => e.startsWith('CODER_GIT_'))) assert.ok(server.env.has(e), `${cmd[0]} reads ${e}`);
});

test('Dockerfile build stage reproduced: only the copied files, npm ci then prune to runtime dependencies, and coder-git runs (its bundle)', async () => {
  const ins = instructions(read('Dockerfile'));
  const dir = tempDir('coder-git-image-');
  for (const i of ins.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
    for (const src of i.args.split(/\s+/).slice(0, -1)) cpSync(path.join(ROOT, src), path.join(dir, src), { recursive: true });
  }
  const run = ins.find((i) => i.op === 'RUN' && i.args.startsWith('npm ci'))!.args;
  execFileSync('bash', ['-c', run], { cwd: dir, stdio: 'pipe', timeout: 300_000, env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_loglevel: 'error' } });
  assert.ok(existsSync(path.join(dir, 'dist/coder-git.mjs')), 'the bundle was built');
  assert.not.ok(existsSync(path.join(dir, 'node_modules/uvu')), 'no dev dependencies');
  const bin = path.join(dir, 'bin/coder-git.js');
  const repo = path.join(dir, 'cfg');
  execFileSync(process.execPath, [bin, 'init', repo], { stdio: 'pipe' });
  const out = execFileSync(process.execPath, [bin, 'validate', '-C', repo], { encoding: 'utf8' });
  assert.match(out, /^valid: /m, 'schemas, templates and CI files are all in the image');
  assert.match(execFileSync(process.execPath, [bin, 'server', '--help'], { encoding: 'utf8' }), /--listen/);
  const v = JSON.parse(execFileSync(process.execPath, [bin, 'version', '--json'], { encoding: 'utf8' }));
  assert.is(v.build, 'bundle', 'the image runs the bundle (no .git beside it), not the sources');
  assert.not.ok(existsSync(path.join(dir, 'node_modules/tsx')), 'no TypeScript loader in the image');
});

test('systemd units: systemd-analyze verify finds nothing; real commands and variables; stop waits for the grace period', async () => {
  execFileSync(path.join(ROOT, 'scripts/install-debian.sh'), ['systemd-analyze', 'systemd'], { stdio: 'inherit' });
  const dir = tempDir('coder-git-systemd-');
  const server = await accepts('server');
  const runner = await accepts('runner');
  for (const unit of ['coder-git-server.service', 'coder-git-runner.service']) {
    const text = read(`deploy/systemd/${unit}`);
    const exec = /^ExecStart=\/usr\/local\/bin\/coder-git (\w+)$/m.exec(text);
    assert.ok(exec, `${unit}: ExecStart runs coder-git`);
    // verify checks that ExecStart's program and the EnvironmentFile exist: point them at this checkout.
    const local = text.replace('/usr/local/bin/coder-git', BIN).replace('/etc/coder-git/coder-git.env', path.join(ROOT, 'deploy/systemd/coder-git.env.example'));
    writeFileSync(path.join(dir, unit), local);
    let stderr = '';
    try {
      execFileSync('systemd-analyze', ['verify', '--man=no', path.join(dir, unit)], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      stderr = String((err as { stderr?: string }).stderr ?? err);
    }
    // verify exits 0 on unknown keys and bad values, printing them: silence is the pass.
    const r = execFileSync('bash', ['-c', `systemd-analyze verify --man=no ${JSON.stringify(path.join(dir, unit))} 2>&1`], { encoding: 'utf8' });
    assert.is(stderr + r, '', `${unit}: systemd-analyze verify`);
    assert.match(text, /^KillMode=mixed$/m, `${unit}: SIGTERM to coder-git only, so terraform is not signalled under it`);
  }
  const timeout = /^TimeoutStopSec=(\d+)min$/m.exec(read('deploy/systemd/coder-git-runner.service'));
  assert.ok(timeout && Number(timeout[1]) > 5, 'the runner unit waits longer than the default --grace of 5m');
  const envKeys = read('deploy/systemd/coder-git.env.example').split('\n').map((l) => /^#?\s*(CODER_GIT_\w+)=/.exec(l)?.[1]).filter(Boolean) as string[];
  assert.ok(envKeys.length >= 5);
  for (const k of envKeys) assert.ok(server.env.has(k) || runner.env.has(k), `${k} is read by the server or the runner`);
});

/** Every `.Values.a.b` path in a template, and every helper used. */
function references(tpl: string) {
  return {
    values: [...tpl.matchAll(/\.Values((?:\.\w+)+)/g)].map((m) => m[1]!.slice(1)),
    includes: [...tpl.matchAll(/(?:include|template) "([\w.-]+)"/g)].map((m) => m[1]!),
    defines: [...tpl.matchAll(/define "([\w.-]+)"/g)].map((m) => m[1]!),
  };
}

test('Helm chart: values and helpers that exist, balanced blocks, real flags and variables, secrets by reference', async () => {
  const chartDir = path.join(ROOT, 'deploy/helm/coder-git');
  const chart = parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8'));
  assert.is(chart.apiVersion, 'v2');
  assert.is(chart.appVersion, pkg.version, 'appVersion is the package version (the default image tag)');
  const values = parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'));
  const has = (p: string) => p.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' && k in v ? (v as Record<string, unknown>)[k] : undefined), values) !== undefined;
  const files = readdirSync(path.join(chartDir, 'templates'));
  const tpl = Object.fromEntries(files.map((f) => [f, readFileSync(path.join(chartDir, 'templates', f), 'utf8')]));
  const defined = new Set(Object.values(tpl).flatMap((t) => references(t).defines));
  for (const [f, t] of Object.entries(tpl)) {
    const refs = references(t);
    for (const v of refs.values) assert.ok(has(v), `${f}: .Values.${v} is in values.yaml`);
    for (const i of refs.includes) assert.ok(defined.has(i), `${f}: helper ${i} is defined`);
    const opens = t.match(/\{\{-?\s*(if|range|with|define)\b/g)?.length ?? 0;
    const ends = t.match(/\{\{-?\s*end\s*-?\}\}/g)?.length ?? 0;
    assert.is(opens, ends, `${f}: every if/range/with/define has its end`);
    assert.is(t.match(/\{\{/g)?.length ?? 0, t.match(/\}\}/g)?.length ?? 0, `${f}: {{ and }} pair up`);
  }
  // Secrets come from Kubernetes secrets: no value in values.yaml looks like a password or URL with one.
  assert.not.match(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8').replace(/#.*$/gm, ''), /postgres(ql)?:\/\/[^\s'"]*:[^\s'"@]*@/);
  assert.match(tpl['_helpers.tpl']!, /CODER_GIT_POSTGRES_URL\s+valueFrom:\s+secretKeyRef:/);

  const server = await accepts('server');
  const runner = await accepts('runner');
  for (const [f, cmd] of [['server-deployment.yaml', server], ['runner-deployment.yaml', runner]] as const) {
    const t = tpl[f]! + tpl['_helpers.tpl']!;
    for (const e of new Set(t.match(/CODER_GIT_\w+/g))) assert.ok(cmd.env.has(e), `${f}: ${e} is read by the command`);
  }
  for (const flag of tpl['runner-deployment.yaml']!.match(/- (--[a-z-]+)=/g)!.map((s) => s.slice(2, -1))) assert.ok(runner.flags.has(flag), `runner takes ${flag}`);
  assert.match(tpl['runner-deployment.yaml']!, /args:\s+- runner/);
  const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(tpl['runner-deployment.yaml']!)![1]);
  assert.ok(grace > 5 * 60, 'Kubernetes waits longer than --grace before it kills the runner');
  assert.match(tpl['server-deployment.yaml']!, /readinessProbe:\s+httpGet: \{ path: \/healthz/);
  // Replicas find each other by pod IP, so relays work whichever replica a person or an agent reaches.
  assert.match(tpl['server-deployment.yaml']!, /name: CODER_GIT_REPLICA_URL\s+value: "http:\/\/\$\(POD_IP\):\{\{ \.Values\.server\.port \}\}"/);
  assert.match(tpl['server-deployment.yaml']!, /name: POD_IP\s+valueFrom:\s+fieldRef: \{ fieldPath: status\.podIP \}/);
  // /healthz is what the server really serves.
  assert.match(read('src/server/app.ts'), /app\.get\('\/healthz'/);
});

test('cleanup', () => cleanup());

test.run();
