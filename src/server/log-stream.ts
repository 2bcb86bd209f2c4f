// The server's log destination: stdout, buffered. A line per request written with its own write(2)
// cost a fifth of the API's throughput; buffered (pino's asynchronous SonicBoom, flushed at 4 KiB and
// at least every second, and on exit) the same lines cost a few syscalls a second. What a crash
// could lose is under a second of lines; errors that end the process are written by the CLI itself.
import pino from 'pino';

let stream: ReturnType<typeof pino.destination> | undefined;

export function logStream(): ReturnType<typeof pino.destination> {
  if (stream) return stream;
  const s = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  stream = s;
  setInterval(() => s.flush(), 1000).unref();
  process.on('exit', () => {
    try {
      s.flushSync();
    } catch {
      // stdout already gone
    }
  });
  return s;
}
