// Resources that must be let go in order (a database pool before the embedded server it talks to):
// each registers a release function; they run last-registered first, when a command finishes or on
// SIGINT/SIGTERM. A watchdog (unref'd, so it never keeps the process alive) bounds shutdown.

type Release = { name: string; fn: () => Promise<void> };

const releases: Release[] = [];
let releasing: Promise<void> | undefined;

/** Registers a release function; returns one that unregisters it (after releasing by hand). */
export function onRelease(name: string, fn: () => Promise<void>): () => void {
  const r = { name, fn };
  releases.push(r);
  return () => {
    const i = releases.indexOf(r);
    if (i >= 0) releases.splice(i, 1);
  };
}

export function releaseAll(log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<void> {
  releasing ??= (async () => {
    while (releases.length) {
      const r = releases.pop()!;
      try {
        await r.fn();
      } catch (err) {
        log(`coder-git: releasing ${r.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })().finally(() => (releasing = undefined));
  return releasing;
}

let installed = false;
const SAME_SIGNAL_MS = 1000;
let budgetMs = 20_000;

/** How long shutdown may take before the watchdog exits anyway (a runner gives builds a grace period). */
export function setShutdownBudget(ms: number): void {
  budgetMs = ms;
}

/** SIGINT/SIGTERM: release everything, then exit 130/143; a second signal or the watchdog exits at once. */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  let stopping = 0;
  const handler = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (stopping) {
      // One Ctrl-C often arrives twice: from the terminal to the whole process group, and forwarded
      // by a parent (npm start, timeout). Only a second press, a moment later, means "now".
      if (Date.now() - stopping > SAME_SIGNAL_MS) process.exit(code);
      return;
    }
    stopping = Date.now();
    setTimeout(() => {
      process.stderr.write(`coder-git: shutdown took over ${budgetMs / 1000}s; exiting anyway\n`);
      process.exit(code);
    }, budgetMs).unref();
    void releaseAll().finally(() => process.exit(code));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
