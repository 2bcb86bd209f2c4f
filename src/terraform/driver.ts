// The Terraform driver: the only module that runs terraform (or tofu), through execa. Each run gets
// a clean environment: nothing of the runner's own environment reaches a template unless
// coder-git.yaml names it (terraform.env), so the database URL or an OIDC secret never does.
// Output is streamed line by line; a run that outlives its timeout is interrupted (SIGINT: Terraform
// stops cleanly and writes its state) and killed only if it does not stop within the grace period.

import { closeSync, constants, openSync, readSync } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { CoderGitError } from '../errors.ts';

export type Stream = 'stdout' | 'stderr';

export interface RunOptions {
  cwd: string;
  /** TF_VAR_* and CODER_* for this run */
  env: Record<string, string>;
  onLine?: (stream: Stream, line: string) => void;
  timeoutMs?: number;
  graceMs?: number;
  /** called with the child's pid once it runs (recorded so a later run can wait for an orphan) */
  onSpawn?: (pid: number) => void;
}

export interface RunResult {
  code: number;
  timedOut: boolean;
}

export interface DriverOptions {
  /** "terraform", "tofu" or a path */
  binary: string;
  /** names of runner environment variables templates may see (coder-git.yaml terraform.env) */
  passEnv: string[];
  /** shared provider cache, so `init` does not download a provider per workspace */
  pluginCacheDir: string;
}

/** The few host variables a terraform process needs to work at all. */
const BASE_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

export class TerraformDriver {
  constructor(readonly opts: DriverOptions) {}

  environment(extra: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const name of [...BASE_ENV, ...this.opts.passEnv]) {
      const v = process.env[name];
      if (v !== undefined) env[name] = v;
    }
    return {
      ...env,
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CHECKPOINT_DISABLE: '1',
      TF_PLUGIN_CACHE_DIR: this.opts.pluginCacheDir,
      // No user CLI configuration (credentials, mirrors) sneaks in unless named in terraform.env.
      TF_CLI_CONFIG_FILE: process.env.TF_CLI_CONFIG_FILE && this.opts.passEnv.includes('TF_CLI_CONFIG_FILE') ? process.env.TF_CLI_CONFIG_FILE : '/dev/null',
      ...extra,
    };
  }

  async run(args: string[], o: RunOptions): Promise<RunResult> {
    // Terraform refuses a plugin cache folder that does not exist.
    await mkdir(this.opts.pluginCacheDir, { recursive: true });
    // Output goes to files that coder-git follows, not to pipes: if coder-git dies, a pipe would break
    // and take Terraform down mid-resource, before it records what it just created. With files,
    // Terraform finishes and writes its state, which the next run picks up.
    const files = { stdout: path.join(o.cwd, '.coder-git-terraform.out'), stderr: path.join(o.cwd, '.coder-git-terraform.err') };
    const fds = { stdout: openSync(files.stdout, 'w', 0o600), stderr: openSync(files.stderr, 'w', 0o600) };
    let child: ResultPromise;
    try {
      child = execa(this.opts.binary, [...args, '-no-color'], {
        cwd: o.cwd,
        env: this.environment(o.env),
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        // Raw descriptors are inherited by terraform itself (execa's {file} target may relay through
        // this process, which is what must not happen); its types do not list plain numbers.
        stdout: fds.stdout as unknown as 'inherit',
        stderr: fds.stderr as unknown as 'inherit',
        // Its own process group: Ctrl-C in the terminal reaches coder-git, which interrupts terraform
        // deliberately (once), rather than terraform getting a second, forceful interrupt.
        detached: true,
        cleanup: false,
      });
    } catch (cause) {
      throw new CoderGitError('CG_TERRAFORM', `cannot run ${this.opts.binary}`, { cause });
    } finally {
      closeSync(fds.stdout);
      closeSync(fds.stderr);
    }
    if (child.pid) o.onSpawn?.(child.pid);
    const followers = (['stdout', 'stderr'] as const).map((stream) => follow(files[stream], (line) => o.onLine?.(stream, line)));
    const poll = setInterval(() => followers.forEach((f) => f.read()), 100);
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const timer = o.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          o.onLine?.('stderr', `coder-git: terraform ran longer than ${Math.round(o.timeoutMs! / 1000)}s; interrupting it`);
          child.kill('SIGINT');
          killer = setTimeout(() => child.kill('SIGKILL'), o.graceMs ?? 60_000);
        }, o.timeoutMs)
      : undefined;
    const r = await child;
    clearTimeout(timer);
    clearTimeout(killer);
    clearInterval(poll);
    for (const f of followers) f.end();
    const exitCode = (r as { exitCode?: number }).exitCode;
    if (exitCode === undefined && (r as { cause?: { code?: string } }).cause?.code === 'ENOENT') {
      throw new CoderGitError('CG_TERRAFORM', `${this.opts.binary} not found on PATH`, { hint: 'install Terraform 1.4+ or set terraform.path in coder-git.yaml' });
    }
    return { code: exitCode ?? 1, timedOut };
  }

}

/** Reads whole lines appended to a file since the last read. */
function follow(file: string, onLine: (line: string) => void): { read(): void; end(): void } {
  let fd: number | undefined;
  let rest = '';
  const buf = Buffer.alloc(64 * 1024);
  const read = () => {
    fd ??= openSync(file, 'r');
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      const text = rest + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) onLine(l.replace(/\r$/, ''));
    }
  };
  return {
    read,
    end() {
      read();
      if (rest) onLine(rest);
      rest = '';
      if (fd !== undefined) closeSync(fd);
    },
  };
}

/**
 * Interrupts a terraform run (started in its own process group by run()) the way Ctrl-C would,
 * once: terraform then stops after the resource in progress and writes its state.
 */
export function interruptTerraform(pid: number): void {
  try {
    process.kill(-pid, 'SIGINT');
  } catch {
    // already gone
  }
}

export interface TerraformVersion {
  /** the binary's absolute path as found on PATH */
  path: string;
  terraform_version: string;
  platform: string;
}

/**
 * `terraform version -json` of a binary (OpenTofu answers the same way). Runs in a temporary folder
 * and without the user's CLI configuration, like every terraform run of coder-git.
 */
export async function terraformVersion(binary: string): Promise<TerraformVersion> {
  const r = await execa(binary, ['version', '-json'], {
    reject: false,
    stdin: 'ignore',
    timeout: 30_000,
    cwd: os.tmpdir(),
    env: { CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' },
  });
  if ((r as { cause?: { code?: string } }).cause?.code === 'ENOENT' || r.exitCode === undefined) {
    throw new CoderGitError('CG_TERRAFORM', `${binary} not found on PATH`, { hint: 'install Terraform 1.4+ or set terraform.path in coder-git.yaml' });
  }
  let v: { terraform_version?: string; platform?: string };
  try {
    v = JSON.parse(String(r.stdout));
  } catch {
    throw new CoderGitError('CG_TERRAFORM', `${binary} version -json did not answer JSON (exit ${r.exitCode}): ${String(r.stdout || r.stderr).split('\n')[0]}`);
  }
  const found = binary.includes('/') ? path.resolve(binary) : (await whichOnPath(binary)) ?? binary;
  return { path: found, terraform_version: v.terraform_version ?? 'unknown', platform: v.platform ?? 'unknown' };
}

async function whichOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const p = path.join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}
