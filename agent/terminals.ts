// Web terminals that outlive their connection (as Coder's "reconnecting PTY"): the browser names its
// terminal with a random id; the agent keeps the shell and the last 64 KiB of its output for five
// minutes after the last viewer left, so a dropped connection or a reloaded page reattaches to the
// same shell and sees what it printed meanwhile. Several viewers of one terminal all see it.
//
// On the relayed WebSocket: binary frames are terminal bytes both ways; text frames from the viewer
// are JSON control messages, {"type":"resize","cols":C,"rows":R}.

import type WebSocket from 'ws';
import { spawnPty, type Pty } from './pty.ts';

export const KEEP_MS = 5 * 60_000;
const BUFFER_BYTES = 64 * 1024;

interface Term {
  pty: Pty;
  /** the output's tail, replayed to whoever attaches */
  tail: Buffer[];
  tailBytes: number;
  viewers: Set<WebSocket>;
  expiry?: NodeJS.Timeout;
}

export interface TerminalsOptions {
  cwd: string;
  env: () => NodeJS.ProcessEnv;
  log: (m: string) => void;
  /** someone typed: the agent reports activity (the inactivity stop counts it) */
  activity: () => void;
  keepMs?: number;
}

export class Terminals {
  private terms = new Map<string, Term>();

  constructor(private readonly o: TerminalsOptions) {}

  get size(): number {
    return this.terms.size;
  }

  attach(id: string, ws: WebSocket, cols: number, rows: number): void {
    let t = this.terms.get(id);
    if (t) {
      clearTimeout(t.expiry);
      t.pty.resize(cols, rows);
      for (const chunk of t.tail) ws.send(chunk, { binary: true });
    } else t = this.open(id, cols, rows);
    const term = t;
    term.viewers.add(ws);
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (binary) {
        term.pty.child.stdin.write(data);
        this.o.activity();
        return;
      }
      try {
        const m = JSON.parse(String(data)) as { type?: string; cols?: number; rows?: number };
        if (m.type === 'resize') term.pty.resize(Number(m.cols), Number(m.rows));
      } catch {}
    });
    ws.on('close', () => {
      term.viewers.delete(ws);
      if (!term.viewers.size && this.terms.get(id) === term) {
        term.expiry = setTimeout(() => {
          this.terms.delete(id);
          term.pty.kill();
        }, this.o.keepMs ?? KEEP_MS);
      }
    });
  }

  private open(id: string, cols: number, rows: number): Term {
    const pty = spawnPty({ cwd: this.o.cwd, env: this.o.env(), cols, rows });
    const t: Term = { pty, tail: [], tailBytes: 0, viewers: new Set() };
    this.terms.set(id, t);
    const out = (chunk: Buffer) => {
      t.tail.push(chunk);
      t.tailBytes += chunk.length;
      while (t.tailBytes - t.tail[0]!.length >= BUFFER_BYTES) t.tailBytes -= t.tail.shift()!.length;
      for (const v of t.viewers) if (v.readyState === v.OPEN) v.send(chunk, { binary: true });
    };
    pty.child.stdout.on('data', out);
    pty.child.stderr.on('data', out);
    pty.child.stdin.on('error', () => undefined);
    pty.child.on('close', (code) => {
      clearTimeout(t.expiry);
      if (this.terms.get(id) === t) this.terms.delete(id);
      for (const v of t.viewers) v.close(1000, `the shell exited${code ? ` with ${code}` : ''}`);
    });
    return t;
  }

  /** The agent stops: every shell is hung up. */
  close(): void {
    for (const t of this.terms.values()) {
      clearTimeout(t.expiry);
      t.pty.kill();
    }
    this.terms.clear();
  }
}
