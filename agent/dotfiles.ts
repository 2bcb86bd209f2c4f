// A user's dotfiles (README: Per-user defaults): on a workspace's first start the agent clones the
// repository their user file names into ~/.dotfiles and runs its install script there, before the
// template's startup script, with the output in the startup log. A marker in ~/.config/coder-git
// makes it once per home (a workspace whose home persists does not do it again on every start);
// a different repository in the user file does it again.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Dotfiles {
  repository: string;
  branch?: string;
  install_script?: string;
}

/** Scripts tried in this order when the user file names none (the names Coder and GitHub Codespaces try). */
export const INSTALL_SCRIPTS = ['install.sh', 'install', 'bootstrap.sh', 'bootstrap', 'setup.sh', 'setup'];

type Line = (stream: 'stdout' | 'stderr', line: string) => void;

function run(cmd: string, args: string[], o: { cwd: string; env: NodeJS.ProcessEnv; line: Line }): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of ['stdout', 'stderr'] as const) {
      let rest = '';
      child[stream].on('data', (chunk: Buffer) => {
        const parts = (rest + chunk.toString('utf8')).split('\n');
        rest = parts.pop() ?? '';
        for (const l of parts) o.line(stream, l);
      });
      child[stream].on('end', () => rest && o.line(stream, rest));
    }
    child.on('error', (e) => {
      o.line('stderr', `${cmd}: ${e.message}`);
      resolve(127);
    });
    child.on('close', (c) => resolve(c ?? 1));
  });
}

/** true when the dotfiles are in place (now or from an earlier start); false when a step failed (said in the log). */
export async function applyDotfiles(d: Dotfiles, o: { home: string; env: NodeJS.ProcessEnv; line: Line }): Promise<boolean> {
  const marker = path.join(o.home, '.config', 'coder-git', 'dotfiles.json');
  const say = (m: string) => o.line('stdout', `dotfiles: ${m}`);
  try {
    if (JSON.parse(readFileSync(marker, 'utf8')).repository === d.repository) return true;
  } catch {
    // not applied yet
  }
  const dir = path.join(o.home, '.dotfiles');
  const env = { ...o.env, GIT_TERMINAL_PROMPT: '0' };
  say(`cloning ${d.repository}${d.branch ? ` (${d.branch})` : ''} into ~/.dotfiles`);
  if (existsSync(dir)) {
    const pulled = await run('git', ['-C', dir, 'pull', '--ff-only'], { cwd: o.home, env, line: o.line });
    if (pulled !== 0) return fail(`~/.dotfiles exists and git pull failed (exit ${pulled}); move it away to clone afresh`);
  } else {
    // (a local path ignores --depth, and says so)
    const local = d.repository.startsWith('/');
    const cloned = await run('git', ['clone', ...(local ? [] : ['--depth', '1']), ...(d.branch ? ['--branch', d.branch] : []), '--', d.repository, dir], { cwd: o.home, env, line: o.line });
    if (cloned !== 0) return fail(`git clone failed (exit ${cloned})`);
  }
  const script = d.install_script ?? INSTALL_SCRIPTS.find((s) => existsSync(path.join(dir, s)));
  if (!script) say(`no install script (tried ${INSTALL_SCRIPTS.join(', ')}); the files are in ~/.dotfiles`);
  else {
    const file = path.resolve(dir, script);
    if (!file.startsWith(dir + path.sep) || !existsSync(file)) return fail(`${script} is not in the repository`);
    say(`running ${script}`);
    const code = await run('sh', [file], { cwd: dir, env, line: o.line });
    if (code !== 0) return fail(`${script} exited with ${code}`);
  }
  mkdirSync(path.dirname(marker), { recursive: true });
  writeFileSync(marker, `${JSON.stringify({ repository: d.repository, applied_at: new Date().toISOString() })}\n`);
  say('done');
  return true;

  function fail(m: string): false {
    o.line('stderr', `dotfiles: ${m}`);
    return false;
  }
}
