// The web terminal's script (served as /static/terminal.js; plain browser JavaScript, no build).
// One WebSocket to the workspace's pty relay: binary frames are terminal bytes, text frames are
// {"type":"resize"} messages. The terminal's id lives in sessionStorage, so a reload or a dropped
// connection reattaches to the same shell (the agent keeps it five minutes without viewers).
import { Terminal } from '/static/xterm/xterm.mjs';
import { FitAddon } from '/static/xterm/addon-fit.mjs';

const el = document.getElementById('terminal');
const status = document.getElementById('terminal-status');
const key = `coder-git-terminal:${el.dataset.socket}`;
const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
let id = sessionStorage.getItem(key) || newId();
sessionStorage.setItem(key, id);

const term = new Terminal({ cursorBlink: true, fontFamily: 'ui-monospace, Menlo, Consolas, monospace', scrollback: 5000 });
const fit = new FitAddon();
term.loadAddon(fit);
term.open(el);
fit.fit();
const encoder = new TextEncoder();
let ws;
let attempt = 0;
let opened = 0;

function show(size) {
  el.dataset.cols = String(size.cols);
  el.dataset.rows = String(size.rows);
}
show(term);

function connect() {
  const url = new URL(el.dataset.socket, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('reconnect', id);
  url.searchParams.set('cols', String(term.cols));
  url.searchParams.set('rows', String(term.rows));
  ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => {
    attempt = 0;
    // A reattach replays the shell's recent output: start from a clean screen rather than twice.
    if (opened++) term.reset();
    status.textContent = 'Connected';
    el.dataset.state = 'connected';
  };
  ws.onmessage = (e) => term.write(typeof e.data === 'string' ? e.data : new Uint8Array(e.data));
  ws.onclose = (e) => {
    el.dataset.state = 'closed';
    if (e.code === 1000 && /shell exited/.test(e.reason)) {
      status.textContent = `${e.reason}. Reload the page for a new shell.`;
      id = newId();
      sessionStorage.setItem(key, id);
      return;
    }
    // The server closed it because the sign-in it was opened with ended: reconnecting cannot help.
    if (e.code === 4401) {
      const why = e.reason || 'closed: signed out';
      status.textContent = `${why[0].toUpperCase()}${why.slice(1)}. Sign in again to reconnect.`;
      return;
    }
    const delay = Math.min(10_000, 500 * 2 ** attempt++);
    status.textContent = `Disconnected${e.reason ? `: ${e.reason}` : ''}. Reconnecting in ${Math.round(delay / 1000)} s…`;
    setTimeout(connect, delay);
  };
}

term.onData((d) => ws?.readyState === WebSocket.OPEN && ws.send(encoder.encode(d)));
term.onResize((size) => {
  show(size);
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', cols: size.cols, rows: size.rows }));
});
window.addEventListener('resize', () => fit.fit());
connect();
term.focus();
