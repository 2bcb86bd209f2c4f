// Runs the CI pipelines coder-git ships (ci/) on this machine, the way GitHub Actions and GitLab CI
// would: the YAML is parsed, jobs and steps are chosen by their `if`/`rules`, environment and
// `${{ }}` expressions are filled in from the documented contexts, and `run:`/`script:` lines run in
// bash with the hosts' shell flags. `uses:` actions are not run; the test provides what they would
// (the checkout, node, terraform). Anything in the YAML this cannot evaluate fails the test, so the
// pipelines cannot grow a condition the test silently ignores.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

export interface StepRun {
  name: string;
  outcome: 'success' | 'failure' | 'skipped';
  code: number;
  stdout: string;
  stderr: string;
}

export interface JobRun {
  ran: boolean;
  ok: boolean;
  steps: StepRun[];
  summary: string;
}

/** Actions whose effect the test provides itself (a checked-out repo, node and terraform on the PATH). */
const PROVIDED_ACTIONS = /^(actions\/checkout|actions\/setup-node|hashicorp\/setup-terraform)@v\d+$/;

type Ctx = Record<string, unknown>;

function lookup(ctx: Ctx, dotted: string): unknown {
  let v: unknown = ctx;
  for (const k of dotted.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** One operand of a GitHub expression: a literal or a context path. */
function operand(ctx: Ctx, s: string): unknown {
  s = s.trim();
  const lit = /^'(.*)'$/.exec(s);
  if (lit) return lit[1];
  if (/^[a-z_]+(\.[\w-]+)+$/i.test(s)) return lookup(ctx, s) ?? '';
  throw new Error(`workflow expression not understood by the test harness: ${s}`);
}

/** The subset of GitHub's expression language the shipped workflow uses. */
export function githubExpr(ctx: Ctx & { failed?: boolean }, expr: string): unknown {
  const e = expr.replace(/^\$\{\{\s*|\s*\}\}$/g, '').trim();
  if (e.includes('&&')) return e.split('&&').every((t) => githubExpr(ctx, t));
  if (e === '!cancelled()' || e === 'always()') return true;
  if (e === 'success()') return !ctx.failed;
  if (e === 'failure()') return !!ctx.failed;
  const cmp = /^(.+?)\s*(==|!=)\s*(.+)$/.exec(e);
  if (cmp) return (operand(ctx, cmp[1]!) === operand(ctx, cmp[3]!)) === (cmp[2] === '==');
  const fmt = /^format\('([^']*)',\s*(.+)\)$/.exec(e);
  if (fmt) return fmt[1]!.replace('{0}', String(operand(ctx, fmt[2]!)));
  return operand(ctx, e);
}

const interpolate = (ctx: Ctx, s: string) => s.replace(/\$\{\{(.*?)\}\}/g, (_, x: string) => String(githubExpr(ctx, x)));

/** Asynchronous, so servers in the test's own process (the code host stand-in) keep answering. */
async function bash(script: string, env: NodeJS.ProcessEnv, cwd: string, flags: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'coder-git-ci-step-'));
  const file = path.join(dir, 'step.sh');
  writeFileSync(file, script);
  try {
    return await new Promise((resolve) => {
      const child = spawn('bash', [...flags, file], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 128, stdout, stderr });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readOutputs(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([\w-]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

export interface GithubRun {
  /** the workflow file */
  file: string;
  job: string;
  /** the repository's working tree, checked out at the commit of the event */
  workspace: string;
  event: { name: 'pull_request' | 'push'; payload: unknown; ref: string; sha: string };
  repository: string;
  secrets: Record<string, string>;
  /** the machine's environment (PATH, HOME, ...) plus what the test sets on top, like GITHUB_API_URL */
  env: NodeJS.ProcessEnv;
  /** workflow env values replaced after interpolation (how coder-git is run, here: this checkout) */
  override: Record<string, string>;
}

/** One job of a GitHub Actions workflow, with the runner's documented default environment. */
export async function runGithubJob(o: GithubRun): Promise<JobRun> {
  const wf = parse(readFileSync(o.file, 'utf8')) as { env?: Record<string, string>; jobs: Record<string, { if?: string; env?: Record<string, string>; steps: { name?: string; id?: string; if?: string; uses?: string; run?: string; env?: Record<string, string>; shell?: string }[] }> };
  const job = wf.jobs[o.job];
  if (!job) throw new Error(`no job ${o.job} in ${o.file}`);
  const temp = mkdtempSync(path.join(tmpdir(), 'coder-git-ci-runner-'));
  const eventPath = path.join(temp, 'event.json');
  writeFileSync(eventPath, JSON.stringify(o.event.payload));
  const summary = path.join(temp, 'step-summary.md');
  writeFileSync(summary, '');
  const steps: Record<string, { outputs: Record<string, string> }> = {};
  const ctx: Ctx & { failed?: boolean } = {
    github: { event_name: o.event.name, repository: o.repository, ref: o.event.ref, sha: o.event.sha, workspace: o.workspace, event: o.event.payload },
    secrets: o.secrets,
    runner: { temp },
    steps,
    failed: false,
  };
  const result: JobRun = { ran: false, ok: true, steps: [], summary: '' };
  try {
    if (job.if !== undefined && !githubExpr(ctx, job.if)) return result;
    result.ran = true;
    const base: NodeJS.ProcessEnv = {
      ...o.env,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: o.event.name,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: o.repository,
      GITHUB_REF: o.event.ref,
      GITHUB_SHA: o.event.sha,
      GITHUB_WORKSPACE: o.workspace,
      GITHUB_STEP_SUMMARY: summary,
      RUNNER_TEMP: temp,
    };
    const envOf = (m: Record<string, string> | undefined) => Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, interpolate(ctx, String(v))]));
    for (const [i, step] of job.steps.entries()) {
      const name = step.name ?? step.uses ?? `step ${i + 1}`;
      const cond = step.if ?? 'success()';
      if (!githubExpr(ctx, cond)) {
        result.steps.push({ name, outcome: 'skipped', code: 0, stdout: '', stderr: '' });
        continue;
      }
      if (step.uses) {
        if (!PROVIDED_ACTIONS.test(step.uses)) throw new Error(`the test harness does not know what ${step.uses} provides`);
        result.steps.push({ name, outcome: 'success', code: 0, stdout: '', stderr: '' });
        continue;
      }
      if (step.shell) throw new Error(`shell ${step.shell} not supported by the test harness`);
      const output = path.join(temp, `output-${i}`);
      writeFileSync(output, '');
      const env = { ...base, ...envOf(wf.env), ...envOf(job.env), ...envOf(step.env), ...o.override, GITHUB_OUTPUT: output };
      // GitHub's default shell for run steps on Linux: bash --noprofile --norc -eo pipefail {0}
      const r = await bash(interpolate(ctx, step.run!), env, o.workspace, ['--noprofile', '--norc', '-eo', 'pipefail']);
      if (step.id) steps[step.id] = { outputs: readOutputs(output) };
      const outcome = r.code === 0 ? 'success' : 'failure';
      if (outcome === 'failure') ctx.failed = true;
      result.steps.push({ name, outcome, ...r });
    }
    result.ok = !ctx.failed;
    result.summary = readFileSync(summary, 'utf8');
    return result;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** The subset of GitLab's rules:if syntax the shipped pipeline uses: $A == "v", $A == $B, !=. */
export function gitlabIf(vars: Record<string, string | undefined>, expr: string): boolean {
  const m = /^\s*\$(\w+)\s*(==|!=)\s*(?:"([^"]*)"|\$(\w+))\s*$/.exec(expr);
  if (!m) throw new Error(`rules:if not understood by the test harness: ${expr}`);
  const right = m[3] ?? vars[m[4]!] ?? '';
  return ((vars[m[1]!] ?? '') === right) === (m[2] === '==');
}

export interface GitlabRun {
  file: string;
  job: string;
  workspace: string;
  /** CI_* predefined variables of the pipeline, and the project's CI/CD variables */
  variables: Record<string, string>;
  env: NodeJS.ProcessEnv;
  override: Record<string, string>;
  /** did an earlier stage fail */
  earlierFailed?: boolean;
}

/** One job of a GitLab pipeline: workflow rules, the job's rules and `when`, before_script + script in one shell. */
export async function runGitlabJob(o: GitlabRun): Promise<JobRun> {
  const p = parse(readFileSync(o.file, 'utf8')) as Record<string, any>;
  const job = p[o.job];
  if (!job) throw new Error(`no job ${o.job} in ${o.file}`);
  const vars = { ...p.variables, ...job.variables, ...o.variables } as Record<string, string>;
  const result: JobRun = { ran: false, ok: true, steps: [], summary: '' };
  const workflowRules = (p.workflow?.rules ?? []) as { if?: string }[];
  if (workflowRules.length && !workflowRules.some((r) => r.if && gitlabIf(vars, r.if))) return result;
  let when = 'on_success';
  if (job.rules) {
    const rule = (job.rules as { if?: string; when?: string }[]).find((r) => !r.if || gitlabIf(vars, r.if));
    if (!rule || rule.when === 'never') return result;
    when = rule.when ?? 'on_success';
  }
  if (o.earlierFailed && when !== 'always') return result;
  result.ran = true;
  const lines = [...(job.before_script ?? p.default?.before_script ?? []), ...job.script] as string[];
  // The runner's bash executor: one shell for every line, stopping at the first failure.
  const r = await bash(`set -eo pipefail\n${lines.join('\n')}\n`, { ...o.env, CI: 'true', GITLAB_CI: 'true', ...vars, ...o.override }, o.workspace, ['--noprofile', '--norc']);
  result.ok = r.code === 0;
  result.steps.push({ name: o.job, outcome: result.ok ? 'success' : 'failure', ...r });
  if (existsSync(path.join(o.workspace, 'plan.md'))) result.summary = readFileSync(path.join(o.workspace, 'plan.md'), 'utf8');
  return result;
}
