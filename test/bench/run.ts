// `npm run bench`: every benchmark, with the machine it ran on. BENCH_RUNS=N (default 3) runs per figure.
//   npm run bench -- state     only the benchmarks whose name contains "state"
//   BENCH_AGENTS=N (default 10000) agent sockets for the server benchmark
//   BENCH_KEYS=N (default 500) keystrokes, BENCH_SCP_MB=N (default 100) for the relay benchmark
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchValidate } from './validate.bench.ts';
import { benchState } from './state.bench.ts';
import { benchApply } from './apply.bench.ts';
import { benchRunner } from './runner.bench.ts';
import { benchServer } from './server.bench.ts';
import { benchRelay } from './relay.bench.ts';
import { benchSandbox } from './sandbox.bench.ts';
import { benchSchedule } from './schedule.bench.ts';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'coder-git-bench-'));
chmodSync(tmp, 0o711); // a root runner's local workspaces run as nobody, who must reach their folders
const cpus = os.cpus();
console.log(`machine: ${cpus[0]?.model ?? 'unknown CPU'} x${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`);
const benches: [string, () => Promise<string[]>][] = [
  ['validate', () => benchValidate({ runs, tmp })],
  ['state', () => benchState({ runs: Math.max(runs, 5) })],
  ['apply', () => benchApply({ tmp, workspaces: Number(process.env.BENCH_WORKSPACES ?? 200) })],
  ['runner', () => benchRunner({ tmp, commits: 20 })],
  ['schedule', () => benchSchedule({ workspaces: 20_000, runs: Math.max(runs, 5) })],
  ['server', () => benchServer({ agents: Number(process.env.BENCH_AGENTS ?? 10_000) })],
  ['sandbox', () => benchSandbox({ tmp, warm: Number(process.env.BENCH_SANDBOX_STARTS ?? 5) })],
  ['relay', () => benchRelay({ keys: Number(process.env.BENCH_KEYS ?? 500), scpMb: Number(process.env.BENCH_SCP_MB ?? 100) })],
];
const only = process.argv.slice(2);
try {
  for (const [name, bench] of benches) {
    if (only.length && !only.some((o) => name.includes(o))) continue;
    for (const line of await bench()) console.log(line);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
