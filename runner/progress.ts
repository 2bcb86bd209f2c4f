// How `coder-git apply` reports its builds. By default one line per finished build, with a running
// count and its duration (`[37/200] alice/dev start succeeded 12.3 s`); a failed build adds its last
// log lines and the command that prints the whole log. Terraform's own output only with --verbose
// (it is always in the build log). On a terminal, a status line below names what is building.
import type { Db } from '../src/db/connect.ts';
import { builds, type BuildContext } from '../src/db/repos/builds.ts';
import { logs, type LogStream } from '../src/db/repos/logs.ts';
import type { Colors } from '../src/config/format.ts';
import type { Finished } from './workers.ts';

export interface BuildReport {
  workspace: string;
  build_number: number;
  transition: string;
  status: string;
  seconds: number;
  error: string | null;
}

export interface ProgressOptions {
  db: Db;
  /** the builds this apply queued: the count runs against these */
  buildIds: string[];
  color: Colors;
  verbose: boolean;
  /** a terminal: keep a live status line of the builds running */
  live: boolean;
  write: (s: string) => void;
  /** how many log lines a failed build shows */
  tailLines?: number;
}

export class Progress {
  readonly reports: BuildReport[] = [];
  private done = 0;
  private readonly ours: Set<string>;
  private readonly running = new Map<string, string>();
  private statusShown = false;

  constructor(private readonly o: ProgressOptions) {
    this.ours = new Set(o.buildIds);
  }

  /** Every terraform line (shown with --verbose only). */
  line = (b: BuildContext, stream: LogStream, line: string): void => {
    if (!this.o.verbose) return;
    const c = this.o.color;
    this.print(`${c.dim(`${b.owner}/${b.workspace} #${b.build_number}:`)} ${stream === 'stderr' ? c.red(line) : line}\n`);
  };

  started = async (buildId: string): Promise<void> => {
    if (!this.o.live || this.o.verbose) return;
    const b = await builds.context(this.o.db, buildId).catch(() => null);
    this.running.set(buildId, b ? `${b.owner}/${b.workspace}` : buildId.slice(0, 8));
    this.redraw();
  };

  finished = async (f: Finished): Promise<void> => {
    this.running.delete(f.job.build_id);
    const c = this.o.color;
    const b = f.build;
    const name = b ? `${b.owner}/${b.workspace}` : f.job.build_id.slice(0, 8);
    this.reports.push({ workspace: name, build_number: b?.build_number ?? 0, transition: b?.transition ?? '?', status: f.status, seconds: Math.round(f.seconds * 10) / 10, error: f.error });
    const count = this.ours.has(f.job.build_id) ? `[${++this.done}/${this.ours.size}]` : '[queued before]';
    const status = f.status === 'succeeded' ? c.green(f.status) : c.red(f.status);
    let text = `${count} ${name} ${b?.transition ?? ''} ${status} ${f.seconds.toFixed(1)} s\n`;
    if (f.status !== 'succeeded') {
      if (f.error) text += `    ${c.red(f.error)}\n`;
      if (!this.o.verbose) {
        const tail = await logs.tail(this.o.db, f.job.build_id, this.o.tailLines ?? 10);
        for (const l of tail) text += `    ${c.dim('│')} ${l.line}\n`;
      }
      if (b) text += `    full log: coder-git logs ${name} --build ${b.build_number}\n`;
    }
    this.print(text);
  };

  /** Prints above the status line, then draws it again. */
  private print(text: string): void {
    this.clear();
    this.o.write(text);
    this.redraw();
  }

  private clear(): void {
    if (this.statusShown) this.o.write('\r\x1b[2K');
    this.statusShown = false;
  }

  private redraw(): void {
    if (!this.o.live || this.o.verbose) return;
    this.clear();
    if (!this.running.size) return;
    const names = [...this.running.values()];
    const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
    this.o.write(this.o.color.dim(`building ${shown}… (${this.done}/${this.ours.size} done)`));
    this.statusShown = true;
  }

  end(): void {
    this.clear();
  }
}
