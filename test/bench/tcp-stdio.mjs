// ssh's ProxyCommand for the relay benchmark's floor: stdin/stdout to 127.0.0.1:<port>.
import net from 'node:net';
const s = net.connect(Number(process.argv[2]), '127.0.0.1');
s.setNoDelay(true);
process.stdin.pipe(s).pipe(process.stdout);
s.on('error', () => process.exit(1));
s.on('close', () => process.exit(0));
