// Benchmark: `coder-git validate` on a 30,000-object repo (issue 2). Each measurement is a whole
// process, as a user or CI runs it, median of RUNS. Compared in the same run with
//   floor   - one plain node process that reads the same files and YAML-parses them
//   ajv-cli - validating the same files against the same schemas (one invocation per kind)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateRepo, FULL } from './generate.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(root, 'bin/coder-git.js');
const AJV = path.join(root, 'node_modules/.bin/ajv');

interface Sample {
  ms: number;
  rssMiB: number;
}

/** Wall time and peak RSS of a command (GNU time). */
function measure(cmd: string, args: string[], cwd: string, okCodes = [0]): Sample {
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - started;
  if (!okCodes.includes(r.status ?? -1)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-500)}`);
  const kb = Number(r.stderr.trim().split('\n').pop());
  return { ms, rssMiB: kb / 1024 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function benchValidate(opts: { runs: number; tmp: string }): Promise<string[]> {
  const dir = path.join(opts.tmp, 'repo-30k');
  const t0 = performance.now();
  generateRepo(dir, FULL);
  const genS = ((performance.now() - t0) / 1000).toFixed(1);
  const lines: string[] = [];
  const stat = (name: string, fn: () => Sample) => {
    fn(); // warm the page cache and tsx's transform cache
    const samples = Array.from({ length: opts.runs }, fn);
    const s = { ms: median(samples.map((x) => x.ms)), rssMiB: Math.max(...samples.map((x) => x.rssMiB)) };
    return { name, ...s };
  };
  const node = process.execPath;
  const results = [
    stat('validate (working tree)', () => measure(node, [BIN, 'validate', '--format', 'json'], dir)),
    stat('validate --ref HEAD', () => measure(node, [BIN, 'validate', '--format', 'json', '--ref', 'HEAD'], dir)),
    stat('floor: read + parse (yaml)', () => measure(node, [path.join(root, 'test/bench/floor.mjs'), dir, 'yaml'], dir)),
    stat('floor: read + parse (js-yaml)', () => measure(node, [path.join(root, 'test/bench/floor.mjs'), dir, 'js-yaml'], dir)),
  ];
  const schemas = path.join(root, 'schemas');
  const ajv = (schema: string, data: string) => [
    'validate', '--spec=draft2020', '--strict=false', '-c', 'ajv-formats', '-s', path.join(schemas, schema), '-d', data,
  ];
  if (existsSync(AJV)) {
    results.push(
      stat('ajv-cli (4 invocations, summed)', () => {
        const parts = [
          measure(AJV, ajv('deployment.json', 'coder-git.yaml'), dir),
          measure(AJV, ajv('user.json', 'users/*.yaml'), dir),
          measure(AJV, ajv('template.json', 'templates/*/template.yaml'), dir),
          measure(AJV, ajv('workspace.json', 'workspaces/*/*.yaml'), dir),
        ];
        return { ms: parts.reduce((a, p) => a + p.ms, 0), rssMiB: Math.max(...parts.map((p) => p.rssMiB)) };
      }),
    );
  }
  const by = Object.fromEntries(results.map((r) => [r.name, r]));
  const wt = by['validate (working tree)']!;
  const ref = by['validate --ref HEAD']!;
  const floor = by['floor: read + parse (yaml)']!;
  const fastFloor = by['floor: read + parse (js-yaml)']!;
  const ajvR = by['ajv-cli (4 invocations, summed)'];
  lines.push(`validate: ${FULL.users} users, ${FULL.workspaces} workspaces, ${FULL.templates} templates (generated + committed in ${genS}s); median of ${opts.runs} process runs`);
  for (const r of results) lines.push(`  ${r.name.padEnd(34)} ${r.ms.toFixed(0).padStart(7)} ms   peak RSS ${r.rssMiB.toFixed(0).padStart(5)} MiB`);
  lines.push(`  ratio validate (working tree) / floor (yaml):    ${(wt.ms / floor.ms).toFixed(2)}x   (goal <= 1.3x)`);
  lines.push(`  ratio validate --ref HEAD / floor (yaml):        ${(ref.ms / floor.ms).toFixed(2)}x`);
  lines.push(`  ratio validate (working tree) / floor (js-yaml): ${(wt.ms / fastFloor.ms).toFixed(2)}x`);
  if (ajvR) lines.push(`  ajv-cli / validate (working tree):               ${(ajvR.ms / wt.ms).toFixed(2)}x faster   (goal >= 5x)`);
  execFileSync('rm', ['-rf', dir]);
  return lines;
}
