// Keeps the dashboard's pages live without a reload (the pages work without it):
//   [data-live-watch=URL]  the workspace's event stream: on each change, the block is rendered again
//   [data-live-poll=MS]    the block is rendered again every MS until the page no longer asks for it
//   [data-live-log=URL]    a running build's log: new lines appended as terraform prints them
// "Rendered again" fetches this same page and swaps the block's contents.

async function refresh(block) {
  const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
  if (!res.ok) return false;
  const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
  const selector = block.hasAttribute('data-live-watch') ? '[data-live-watch]' : '[data-live-poll]';
  const fresh = doc.querySelector(selector);
  if (fresh) block.innerHTML = fresh.innerHTML;
  else if (block.hasAttribute('data-live-poll')) {
    // the page settled: show its final form, and stop
    const main = doc.querySelector('main');
    if (main) document.querySelector('main').innerHTML = main.innerHTML;
    return false;
  }
  return true;
}

for (const block of document.querySelectorAll('[data-live-watch]')) {
  const events = new EventSource(block.getAttribute('data-live-watch'));
  let first = true;
  let timer;
  events.addEventListener('workspace', () => {
    if (first) return void (first = false); // the stream starts with the workspace as it is now
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(block), 250);
  });
  events.addEventListener('closed', () => events.close());
}

for (const block of document.querySelectorAll('[data-live-poll]')) {
  const every = Number(block.getAttribute('data-live-poll')) || 3000;
  const tick = async () => {
    if (await refresh(block).catch(() => true)) setTimeout(tick, every);
  };
  setTimeout(tick, every);
}

const log = document.querySelector('[data-live-log]');
if (log && log.getAttribute('data-running') === 'yes') {
  let after = log.getAttribute('data-after') || '0';
  const tick = async () => {
    let finished = false;
    try {
      const res = await fetch(`${log.getAttribute('data-live-log')}?after=${after}`, { credentials: 'same-origin' });
      if (res.ok) {
        const body = await res.json();
        if (body.lines.length) {
          document.getElementById('no-log')?.remove();
          const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
          log.append(body.lines.map((l) => `${l.line}\n`).join(''));
          after = body.lines[body.lines.length - 1].id;
          if (atBottom) log.scrollTop = log.scrollHeight;
        }
        finished = ['succeeded', 'failed', 'canceled', 'interrupted'].includes(body.build.status) && body.lines.length < 1000;
      }
    } catch {
      // the server restarting: try again
    }
    if (finished) {
      // the final status, times and error: the page as it is now
      const res = await fetch(location.href, { credentials: 'same-origin' });
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const dl = doc.querySelector('dl.facts');
      if (dl) document.querySelector('dl.facts').replaceWith(dl);
      log.setAttribute('data-running', 'no');
    } else setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}
