// Waiting in tests: poll until a condition holds, or fail naming what did not happen (uvu has no
// timeouts of its own); whether a process is alive; a free port.
import { createServer, type AddressInfo } from 'node:net';

export async function until<T>(
  what: string,
  fn: () => T | false | undefined | Promise<T | false | undefined>,
  o: { ms?: number; every?: number; detail?: () => string } = {},
): Promise<T> {
  const end = Date.now() + (o.ms ?? 30_000);
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${o.detail ? `\n${o.detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, o.every ?? 100));
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port free on 127.0.0.1 right now (for servers that must know their URL before they listen). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}
