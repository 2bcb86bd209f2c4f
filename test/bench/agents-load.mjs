// Load for the server benchmark, run as its own process: N agent WebSockets to one server, each
// saying hello, reporting starting → ready, then sending a heartbeat every 15 s (spread evenly).
// Prints "connected N" once all are up, then keeps them until killed.
import WebSocket from 'ws';

const [url, n, rate] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 1000)];
const HEARTBEAT = 15_000;
let open = 0;
let failed = 0;
const sockets = [];

function connect(i) {
  const ws = new WebSocket(`${url}/api/v1/agents/connect`, { headers: { 'coder-agent-token': `agent-${i}` }, perMessageDeflate: false });
  ws.on('open', () => {
    open++;
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, version: 'bench', os: 'linux', arch: 'x64' }));
    ws.send(JSON.stringify({ type: 'lifecycle', state: 'starting' }));
    ws.send(JSON.stringify({ type: 'lifecycle', state: 'ready' }));
    setTimeout(() => {
      ws.send(JSON.stringify({ type: 'heartbeat' }));
      setInterval(() => ws.readyState === ws.OPEN && ws.send(JSON.stringify({ type: 'heartbeat' })), HEARTBEAT);
    }, Math.random() * HEARTBEAT);
  });
  ws.on('error', () => failed++);
  ws.on('message', () => {});
  sockets.push(ws);
}

let i = 0;
const tick = setInterval(() => {
  for (let k = 0; k < rate / 10 && i < n; k++) connect(i++);
  if (i >= n) clearInterval(tick);
}, 100);
const report = setInterval(() => {
  if (open + failed >= n) {
    console.log(`connected ${open} failed ${failed}`);
    clearInterval(report);
  }
}, 200);
