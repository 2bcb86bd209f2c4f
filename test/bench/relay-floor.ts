// The floor of the relay benchmark (run with node --import tsx), in its own processes:
//   relay-floor.ts targets        a PTY server (each TCP connection gets a shell on a PTY, as the
//                                 agent's pty.ts makes it) and the agent's own SSH server (ssh.ts),
//                                 both on plain TCP ports; prints "targets <pty port> <ssh port>"
//   relay-floor.ts relay <port>   a plain TCP relay to 127.0.0.1:<port>; prints "relay <port>"
// So the floor is: the same shell, the same SSH server, one plain TCP hop in between, where ours has
// a WebSocket to the server, the server, a WebSocket to the agent and the agent.
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnPty } from '../../agent/pty.ts';
import { sshServer } from '../../agent/ssh.ts';

const listen = (server: net.Server | { listen: (port: number, host: string, cb: () => void) => void; address: () => unknown }) =>
  new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));

const [mode, arg] = process.argv.slice(2);
if (mode === 'targets') {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'coder-git-bench-floor-'));
  const ptyServer = net.createServer((socket) => {
    const pty = spawnPty({ cwd, env: process.env, cols: 80, rows: 24 });
    pty.child.stdout.pipe(socket);
    socket.pipe(pty.child.stdin);
    socket.on('close', () => pty.kill());
    socket.on('error', () => pty.kill());
    pty.child.stdin.on('error', () => undefined);
  });
  const ssh = sshServer({ cwd, log: () => undefined, env: () => process.env });
  const [a, b] = [await listen(ptyServer), await listen(ssh as never)];
  console.log(`targets ${a} ${b}`);
} else if (mode === 'relay') {
  const target = Number(arg);
  const relay = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  console.log(`relay ${await listen(relay)}`);
} else {
  console.error('usage: relay-floor.ts targets | relay <port>');
  process.exit(64);
}
