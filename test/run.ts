// `npm test`: builds the bundle, type-checks, then runs every test/**/*.test.ts (uvu suites) in its own Node process,
// TEST_JOBS at a time (default 2, the CI machine's cores), each within TEST_FILE_TIMEOUT seconds.
// A file that crashes or hangs counts as a failure. Ends with the line CI reads: "N passed, N failed".
//   npm test                 everything
//   npm test -- config cli   only files whose path contains "config" or "cli"

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);
const jobs = Number(process.env.TEST_JOBS ?? 2);
const timeoutS = Number(process.env.TEST_FILE_TIMEOUT ?? 600);

interface Outcome {
  name: string;
  passed: number;
  failed: number;
  skipped: number;
  output: string;
  seconds: number;
}

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'fixtures' && e.name !== 'bench') out.push(...findTests(p));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

function run(name: string, cmd: string, args: string[]): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }, timeoutS * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(output)?.[1] ?? NaN);
      const total = num('Total');
      const passed = num('Passed');
      const skipped = num('Skipped') || 0;
      if (timedOut) output += `\n!! ${name}: killed after ${timeoutS}s\n`;
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        resolve({ name, passed: 0, failed: 1, skipped: 0, output: `${output}\n!! ${name}: exited with ${code} and no uvu summary\n`, seconds });
        return;
      }
      let failed = total - passed;
      if (failed === 0 && code !== 0) {
        failed = 1;
        output += `\n!! ${name}: all tests passed but the process exited with ${code}\n`;
      }
      resolve({ name, passed, failed, skipped, output, seconds });
    });
  });
}

/** A command that passes with exit status 0 (type check, build): counted as one test. */
function step(name: string, args: string[]): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => {
      resolve({ name, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const files = findTests(path.join(root, 'test')).filter((f) => !filters.length || filters.some((x) => f.includes(x)));
const outcomes: Outcome[] = [];
const report = (o: Outcome) => {
  outcomes.push(o);
  const status = o.failed ? 'FAIL' : 'ok  ';
  process.stdout.write(`${status} ${o.name}  (${o.passed} passed, ${o.failed} failed, ${o.seconds.toFixed(1)}s)\n`);
  if (o.failed || process.env.TEST_VERBOSE) process.stdout.write(`${o.output.trim()}\n\n`);
};

// The CLI tests run bin/coder-git.js, which runs the bundle when it is fresh: build it before any
// test starts, so they test what users run (and a build failure is a test failure).
report(await step('build (scripts/build.mjs)', [path.join(root, 'scripts/build.mjs')]));

// One embedded PostgreSQL for the whole run, with a migrated template database; each test file
// clones its own databases from it (test/helpers/db.ts).
let pgServer: { adminUrl: string; stop(): Promise<void> } | undefined;
if (files.some((f) => readFileSync(f, 'utf8').includes('helpers/db.ts'))) {
  const { startTestServer } = await import('./helpers/db.ts');
  pgServer = await startTestServer();
  process.env.CODER_GIT_TEST_PG = pgServer.adminUrl;
}

// The type check runs as one of the jobs, beside the test files.
const queue: (() => Promise<Outcome>)[] = [
  ...(filters.length ? [] : [() => step('typecheck (tsc --noEmit)', [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root])]),
  ...files.map((f) => () => run(path.relative(root, f), process.execPath, ['--import', 'tsx', f])),
];
const workers = Array.from({ length: Math.max(1, jobs) }, async () => {
  for (let job = queue.shift(); job; job = queue.shift()) report(await job());
});
await Promise.all(workers);
await pgServer?.stop();

const sum = (k: 'passed' | 'failed' | 'skipped') => outcomes.reduce((a, o) => a + o[k], 0);
const skipped = sum('skipped');
process.stdout.write(`\n${sum('passed')} passed, ${sum('failed')} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exitCode = sum('failed') ? 1 : 0;
