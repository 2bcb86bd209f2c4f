// The agent keeps trying, whatever the failure: a refused token (401), a proxy's 502, nothing
// listening, a name that does not resolve. Each schedules the next try with the backoff; the process
// stays alive and connects once a server accepts it. A stand-in server plays each failure in turn on
// one port, then accepts the WebSocket and waits for the agent's hello.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { BIN } from '../helpers/cli.ts';
import { alive, freePort, until } from '../helpers/wait.ts';

const running: ChildProcess[] = [];
function agent(url: string): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [BIN, 'agent'], { env: { ...process.env, CODER_AGENT_TOKEN: 'a-token', CODER_AGENT_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let out = '';
  child.stdout!.on('data', (x) => (out += x));
  child.stderr!.on('data', (x) => (out += x));
  return { child, out: () => out };
}

test('401, then 502, then nothing listening, then a server that accepts: alive throughout, and it connects', async () => {
  const port = await freePort();
  let phase: 'refuse' | 'proxy-error' | 'accept' = 'refuse';
  const attempts: string[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const hello = new Promise<{ type: string; protocol: number }>((resolve) => wss.on('connection', (ws) => ws.once('message', (m) => resolve(JSON.parse(String(m))))));
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    attempts.push(phase);
    if (phase === 'refuse') socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    else if (phase === 'proxy-error') socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\nconnection: close\r\n\r\nbad gateway');
    else wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  const listen = () => new Promise<Server>((r) => { const s = createServer(); s.on('upgrade', onUpgrade); s.listen(port, '127.0.0.1', () => r(s)); });
  let server = await listen();
  const a = agent(`http://127.0.0.1:${port}`);
  try {
    await until('the first refusal', () => attempts.includes('refuse') && /HTTP 401/.test(a.out()), { detail: a.out });
    await until('a retry after the refusal', () => /reconnecting in/.test(a.out()), { detail: a.out });
    assert.ok(alive(a.child.pid!), 'alive after a 401');
    phase = 'proxy-error';
    await until('a try that meets the 502', () => attempts.includes('proxy-error'), { ms: 15_000, detail: a.out });
    await until('the 502 reported', () => /HTTP 502/.test(a.out()), { detail: a.out });
    assert.ok(alive(a.child.pid!), 'alive after a 502');
    await new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    const before = (a.out().match(/reconnecting in/g) ?? []).length;
    await until('a try that finds nothing listening', () => (a.out().match(/reconnecting in/g) ?? []).length > before, { ms: 15_000, detail: a.out });
    assert.ok(alive(a.child.pid!), 'alive with nothing listening');
    phase = 'accept';
    server = await listen();
    const h = await Promise.race([hello, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no hello within 40 s\n${a.out()}`)), 40_000).unref())]);
    assert.is(h.type, 'hello');
    assert.is(h.protocol, 1);
  } finally {
    a.child.kill('SIGKILL');
    server.close();
    wss.close();
  }
});

test('a name that does not resolve: the agent waits and tries again, it does not exit', async () => {
  const a = agent('http://coder-git-agent-test.invalid');
  try {
    await until('two tries', () => (a.out().match(/reconnecting in/g) ?? []).length >= 2, { ms: 15_000, detail: a.out });
    assert.ok(alive(a.child.pid!));
  } finally {
    a.child.kill('SIGKILL');
  }
});

test.after(() => running.forEach((c) => c.kill('SIGKILL')));
test.run();
