// A shell on a pseudo-terminal without a native module: util-linux `script` owns the PTY (its stdin
// and stdout are our pipes). The command inside first writes its terminal's name to a file, so a
// resize is `stty -F /dev/pts/N cols C rows R`: TIOCSWINSZ on the terminal, and the kernel sends
// SIGWINCH to the foreground process group exactly as for a real terminal window. (node-pty would
// need a C++ build on every machine that installs coder-git; `script` is on every Linux.)

import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface PtyOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  cols: number;
  rows: number;
  term?: string;
  /** a command for `sh -c`; else the user's login shell */
  command?: string;
}

export interface Pty {
  child: ChildProcessWithoutNullStreams;
  resize(cols: number, rows: number): void;
  /** ends the session: the shell gets SIGHUP, as when a terminal window closes */
  kill(): void;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const clamp = (n: number, max: number) => (Number.isInteger(n) && n > 0 ? Math.min(n, max) : 80);

export function spawnPty(o: PtyOptions): Pty {
  const shell = o.env.SHELL || process.env.SHELL || '/bin/sh';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coder-git-pty-'));
  const ttyFile = path.join(dir, 'tty');
  let size = { cols: clamp(o.cols, 1000), rows: clamp(o.rows, 500) };
  const inner = [
    `tty > ${quote(ttyFile)}`,
    `stty cols ${size.cols} rows ${size.rows} 2>/dev/null`,
    `export SHELL=${quote(shell)}`,
    `exec ${o.command ? `sh -c ${quote(o.command)}` : `${quote(shell)} -l`}`,
  ].join('; ');
  // `script` runs its -c command with $SHELL -c: a POSIX shell, whatever the user's shell is.
  const child = spawn('script', ['-qfec', inner, '/dev/null'], {
    cwd: o.cwd,
    env: { ...o.env, SHELL: '/bin/sh', TERM: o.term || 'xterm-256color' },
  });
  child.on('close', () => rmSync(dir, { recursive: true, force: true }));

  let tty: string | undefined;
  let pending: NodeJS.Timeout | undefined;
  const apply = (tries: number) => {
    pending = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      tty ??= readFileSync(ttyFile, 'utf8').trim() || undefined;
    } catch {}
    // Not written yet (the shell is still starting): the latest size is applied when it is.
    if (!tty) {
      if (tries < 50) pending = setTimeout(() => apply(tries + 1), 40);
      return;
    }
    execFile('stty', ['-F', tty, 'cols', String(size.cols), 'rows', String(size.rows)], () => undefined);
  };
  return {
    child,
    resize(cols, rows) {
      size = { cols: clamp(cols, 1000), rows: clamp(rows, 500) };
      if (!pending) apply(0);
    },
    kill() {
      clearTimeout(pending);
      child.kill('SIGHUP');
    },
  };
}
