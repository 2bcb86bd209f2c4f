// Load for the server benchmark, run as its own process: N agent WebSockets to one server, each
// saying hello, reporting starting → ready, then sending a heartbeat every 15 s (spread evenly).
// Like a real agent, a connection that fails is tried again (after 1 s, up to 5 times); the reasons
// are counted. Prints "connected N failed M retried R" once all are settled, then holds them.
import WebSocket from 'ws';

const [url, n, rate] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 1000)];
const HEARTBEAT = 15_000;
let open = 0;
let failed = 0;
let retried = 0;
const reasons = new Map();

function connect(i, attempt = 1) {
  const ws = new WebSocket(`${url}/api/v1/agents/connect`, { headers: { 'coder-agent-token': `agent-${i}` }, perMessageDeflate: false });
  let opened = false;
  const fail = (why) => {
    if (opened) return;
    opened = true; // settle once
    reasons.set(why, (reasons.get(why) ?? 0) + 1);
    if (attempt < 5) {
      retried++;
      setTimeout(() => connect(i, attempt + 1), 1000);
    } else failed++;
  };
  ws.on('open', () => {
    opened = true;
    open++;
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, version: 'bench', os: 'linux', arch: 'x64' }));
    ws.send(JSON.stringify({ type: 'lifecycle', state: 'starting' }));
    ws.send(JSON.stringify({ type: 'lifecycle', state: 'ready' }));
    setTimeout(() => {
      ws.send(JSON.stringify({ type: 'heartbeat' }));
      setInterval(() => ws.readyState === ws.OPEN && ws.send(JSON.stringify({ type: 'heartbeat' })), HEARTBEAT);
    }, Math.random() * HEARTBEAT);
  });
  ws.on('unexpected-response', (_req, res) => fail(`HTTP ${res.statusCode}`));
  ws.on('error', (err) => fail(err.code ?? err.message));
  ws.on('message', () => {});
}

let i = 0;
const tick = setInterval(() => {
  for (let k = 0; k < rate / 10 && i < n; k++) connect(i++);
  if (i >= n) clearInterval(tick);
}, 100);
const report = setInterval(() => {
  if (open + failed >= n) {
    console.log(`connected ${open} failed ${failed} retried ${retried}${reasons.size ? ` (${[...reasons].map(([r, c]) => `${r}: ${c}`).join(', ')})` : ''}`);
    clearInterval(report);
  }
}, 200);
