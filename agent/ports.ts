// The TCP ports listening inside the workspace, from /proc/net/tcp and tcp6 (no tools needed in the
// image): what the workspace page lists, so its owner sees what can be shared or forwarded.
import { readFile } from 'node:fs/promises';

export interface ListeningPort {
  port: number;
  /** 127.0.0.1, 0.0.0.0, ::, … */
  address: string;
}

const LISTEN = '0A';

function address(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  // IPv6: four little-endian 32-bit words
  const words = [0, 1, 2, 3].map((w) => hex.slice(w * 8, w * 8 + 8).match(/../g)!.reverse().join(''));
  const groups = words.join('').match(/..../g)!.map((g) => parseInt(g, 16).toString(16));
  const s = groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
  return s === '0:0:0:0:0:0:0:0' ? '::' : s;
}

/** Parses a /proc/net/tcp{,6} table's listening sockets. */
export function listeningIn(table: string): ListeningPort[] {
  const out: ListeningPort[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== LISTEN) continue;
    const [addr, port] = f[1]!.split(':') as [string, string];
    out.push({ port: parseInt(port, 16), address: address(addr) });
  }
  return out;
}

/** Every listening port, each once (the lowest address wins), in port order. */
export async function listeningPorts(): Promise<ListeningPort[]> {
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((f) => readFile(f, 'utf8').catch(() => '')));
  const byPort = new Map<number, ListeningPort>();
  for (const p of tables.flatMap(listeningIn)) if (!byPort.has(p.port)) byPort.set(p.port, p);
  return [...byPort.values()].sort((a, b) => a.port - b.port).slice(0, 200);
}
