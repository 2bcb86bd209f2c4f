// Runs the real coder-git binary (bin/coder-git.js) as a user would.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/coder-git.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs coder-git; `bin` runs another copy (an installed package's .bin/coder-git) instead of this checkout's. */
export function cli(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; input?: string; bin?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // The caller's own CODER_GIT_* settings must not leak into what a test sees.
    // Colour variables are unset, not emptied: node warns when both are set, even to "".
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CODER_GIT_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'));
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], {
      cwd: opts.cwd,
      env: { ...inherited, ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`coder-git ${args.join(' ')}: no answer within ${opts.timeoutMs ?? 30000}ms`));
    }, opts.timeoutMs ?? 30000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
