// The agent's SSH server (ssh2), fed streams relayed by the server: it never listens on a port. The
// person was authenticated by the server (their token, owner-only), so SSH authentication accepts
// anyone who reaches it this way. Serves exec (commands, scp -O, rsync), shells (with a PTY from
// `script` when one is asked for), and SFTP (what scp uses since OpenSSH 9). One host key per
// workspace, kept in the workspace folder.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, promises as fsp, readFileSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { Connection, ServerChannel, SFTPWrapper } from 'ssh2';

const { Server, utils } = ssh2;
const { STATUS_CODE, OPEN_MODE } = utils.sftp;

function hostKey(dir: string): Buffer {
  const file = path.join(dir, '.coder-git-agent', 'ssh_host_ed25519_key');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
  }
  return readFileSync(file);
}

export function sshServer(o: { cwd: string; log: (m: string) => void; debug?: (m: string) => void }): InstanceType<typeof Server> {
  const server = new Server({ hostKeys: [hostKey(o.cwd)], debug: o.debug }, (client: Connection) => {
    client.on('authentication', (ctx) => ctx.accept());
    client.on('error', (err) => o.log(`ssh: ${err.message}`));
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        let pty: { cols: number; rows: number; term: string } | undefined;
        const env: Record<string, string> = {};
        session.on('pty', (accept, _reject, info) => {
          pty = { cols: info.cols, rows: info.rows, term: info.term };
          accept?.();
        });
        session.on('env', (accept, _reject, info) => {
          env[info.key] = info.val;
          accept?.();
        });
        session.on('window-change', (accept) => accept?.()); // (no resize yet: `script` has no API for it)
        const run = (stream: ServerChannel, command: string | undefined) => {
          const shell = process.env.SHELL || '/bin/sh';
          let args: [string, string[]];
          if (pty) {
            const inner = `stty cols ${pty.cols} rows ${pty.rows} 2>/dev/null; exec ${command ? `sh -c ${JSON.stringify(command)}` : `${shell} -l`}`;
            args = ['script', ['-qfec', inner, '/dev/null']];
          } else args = command ? ['sh', ['-c', command]] : [shell, ['-l']];
          const child = spawn(args[0], args[1], { cwd: o.cwd, env: { ...process.env, ...env, ...(pty ? { TERM: pty.term } : {}), CODER_AGENT_TOKEN: '' } });
          child.stdout.pipe(stream, { end: false });
          child.stderr.pipe(stream.stderr, { end: false });
          stream.pipe(child.stdin);
          child.on('error', () => stream.exit(127));
          child.on('close', (code, signal) => {
            if (signal) stream.exit(signal, false, '');
            else stream.exit(code ?? 0);
            stream.end();
          });
          stream.on('close', () => child.kill('SIGHUP'));
        };
        session.on('exec', (accept, _reject, info) => run(accept(), info.command));
        session.on('shell', (accept) => run(accept(), undefined));
        session.on('sftp', (accept) => serveSftp(accept(), o.cwd));
      });
    });
  });
  return server;
}

/** A small SFTP server over the workspace's file system (enough for scp, sftp get/put/ls). */
function serveSftp(sftp: SFTPWrapper, cwd: string): void {
  const handles = new Map<number, { fd?: fsp.FileHandle; dir?: string; listed?: boolean }>();
  let next = 0;
  const handle = (h: { fd?: fsp.FileHandle; dir?: string }) => {
    const id = next++;
    handles.set(id, h);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id);
    return b;
  };
  const get = (b: Buffer) => (b.length === 4 ? handles.get(b.readUInt32BE()) : undefined);
  const abs = (p: string) => path.resolve(cwd, p || '.');
  const attrs = (s: Stats) => ({ mode: s.mode, uid: s.uid, gid: s.gid, size: s.size, atime: Math.floor(s.atimeMs / 1000), mtime: Math.floor(s.mtimeMs / 1000) });
  const fail = (id: number, err: unknown) => sftp.status(id, (err as NodeJS.ErrnoException).code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : (err as NodeJS.ErrnoException).code === 'EACCES' ? STATUS_CODE.PERMISSION_DENIED : STATUS_CODE.FAILURE);
  const op = (id: number, fn: () => Promise<void>) => void fn().catch((err) => fail(id, err));

  sftp.on('REALPATH', (id, p) => sftp.name(id, [{ filename: abs(p), longname: abs(p), attrs: {} as never }]));
  sftp.on('STAT', (id, p) => op(id, async () => void sftp.attrs(id, attrs(await fsp.stat(abs(p))))));
  sftp.on('LSTAT', (id, p) => op(id, async () => void sftp.attrs(id, attrs(await fsp.lstat(abs(p))))));
  sftp.on('OPEN', (id, p, flags, a) =>
    op(id, async () => {
      const mode = (flags & OPEN_MODE.WRITE ? (flags & OPEN_MODE.READ ? 'r+' : 'w') : 'r') as string;
      const trunc = flags & OPEN_MODE.TRUNC || flags & OPEN_MODE.CREAT;
      const fd = await fsp.open(abs(p), flags & OPEN_MODE.WRITE ? (trunc ? 'w' : flags & OPEN_MODE.APPEND ? 'a' : 'r+') : mode, a?.mode ?? 0o644);
      sftp.handle(id, handle({ fd }));
    }),
  );
  sftp.on('READ', (id, h, offset, length) =>
    op(id, async () => {
      const fd = get(h)?.fd;
      if (!fd) return void sftp.status(id, STATUS_CODE.FAILURE);
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fd.read(buf, 0, length, offset);
      if (!bytesRead) sftp.status(id, STATUS_CODE.EOF);
      else sftp.data(id, buf.subarray(0, bytesRead));
    }),
  );
  sftp.on('WRITE', (id, h, offset, data) =>
    op(id, async () => {
      const fd = get(h)?.fd;
      if (!fd) return void sftp.status(id, STATUS_CODE.FAILURE);
      await fd.write(data, 0, data.length, offset);
      sftp.status(id, STATUS_CODE.OK);
    }),
  );
  sftp.on('FSTAT', (id, h) => op(id, async () => void sftp.attrs(id, attrs(await get(h)!.fd!.stat()))));
  sftp.on('FSETSTAT', (id) => sftp.status(id, STATUS_CODE.OK));
  sftp.on('SETSTAT', (id, p, a) => op(id, async () => {
    if (a.mode !== undefined) await fsp.chmod(abs(p), a.mode);
    sftp.status(id, STATUS_CODE.OK);
  }));
  sftp.on('CLOSE', (id, h) =>
    op(id, async () => {
      const e = get(h);
      if (!e) return void sftp.status(id, STATUS_CODE.FAILURE);
      handles.delete(h.readUInt32BE());
      await e.fd?.close();
      sftp.status(id, STATUS_CODE.OK);
    }),
  );
  sftp.on('OPENDIR', (id, p) => op(id, async () => {
    await fsp.readdir(abs(p));
    sftp.handle(id, handle({ dir: abs(p) }));
  }));
  sftp.on('READDIR', (id, h) =>
    op(id, async () => {
      const e = get(h);
      if (!e?.dir) return void sftp.status(id, STATUS_CODE.FAILURE);
      if (e.listed) return void sftp.status(id, STATUS_CODE.EOF);
      e.listed = true;
      const names = await fsp.readdir(e.dir);
      const list = await Promise.all(names.map(async (n) => ({ filename: n, longname: n, attrs: attrs(await fsp.lstat(path.join(e.dir!, n))) })));
      sftp.name(id, list as never);
    }),
  );
  sftp.on('MKDIR', (id, p) => op(id, async () => void (await fsp.mkdir(abs(p)), sftp.status(id, STATUS_CODE.OK))));
  sftp.on('RMDIR', (id, p) => op(id, async () => void (await fsp.rmdir(abs(p)), sftp.status(id, STATUS_CODE.OK))));
  sftp.on('REMOVE', (id, p) => op(id, async () => void (await fsp.unlink(abs(p)), sftp.status(id, STATUS_CODE.OK))));
  sftp.on('RENAME', (id, a, b) => op(id, async () => void (await fsp.rename(abs(a), abs(b)), sftp.status(id, STATUS_CODE.OK))));
}
