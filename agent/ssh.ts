// The agent's SSH server (ssh2), fed streams relayed by the server: it never listens on a port. The
// person was authenticated by the server (their token, owner-only), so SSH authentication accepts
// anyone who reaches it this way. Serves exec (commands, scp -O, rsync), shells (with a PTY from
// `script` when one is asked for, resized on window-change: pty.ts), and SFTP (what scp uses since OpenSSH 9). One host key per
// workspace, kept in the workspace folder.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs, { existsSync, mkdirSync, readFileSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { Connection, ServerChannel, SFTPWrapper } from 'ssh2';
import { spawnPty, type Pty } from './pty.ts';

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

export function sshServer(o: { cwd: string; log: (m: string) => void; env: () => NodeJS.ProcessEnv; debug?: (m: string) => void }): InstanceType<typeof Server> {
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
        let term: Pty | undefined;
        session.on('window-change', (accept, _reject, info) => {
          if (pty) Object.assign(pty, { cols: info.cols, rows: info.rows });
          term?.resize(info.cols, info.rows);
          accept?.();
        });
        const run = (stream: ServerChannel, command: string | undefined) => {
          const environment = { ...o.env(), ...env };
          const shell = environment.SHELL || '/bin/sh';
          let child: ChildProcessWithoutNullStreams;
          if (pty) {
            term = spawnPty({ cwd: o.cwd, env: environment, cols: pty.cols, rows: pty.rows, term: pty.term, command });
            child = term.child;
          } else child = spawn(command ? 'sh' : shell, command ? ['-c', command] : ['-l'], { cwd: o.cwd, env: environment });
          child.stdout.pipe(stream, { end: false });
          child.stderr.pipe(stream.stderr, { end: false });
          stream.pipe(child.stdin);
          child.stdin.on('error', () => undefined);
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

/**
 * A small SFTP server over the workspace's file system (enough for scp, sftp get/put/ls). Each request
 * is answered synchronously, in the order it came: replies then never overtake each other.
 */
function serveSftp(sftp: SFTPWrapper, cwd: string): void {
  const handles = new Map<number, { fd?: number; dir?: string; listed?: boolean }>();
  let next = 0;
  const handle = (h: { fd?: number; dir?: string }) => {
    const id = next++;
    handles.set(id, h);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id);
    return b;
  };
  const get = (b: Buffer) => (b.length === 4 ? handles.get(b.readUInt32BE()) : undefined);
  const abs = (p: string) => path.resolve(cwd, p || '.');
  const attrs = (s: Stats) => ({ mode: s.mode, uid: s.uid, gid: s.gid, size: s.size, atime: Math.floor(s.atimeMs / 1000), mtime: Math.floor(s.mtimeMs / 1000) });
  const op = (id: number, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      sftp.status(id, code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : code === 'EACCES' ? STATUS_CODE.PERMISSION_DENIED : STATUS_CODE.FAILURE);
    }
  };
  const ok = (id: number) => sftp.status(id, STATUS_CODE.OK);
  // The client's EOF ends the subsystem: report exit status 0 and close our side too, as sshd does —
  // else OpenSSH's scp/sftp wait forever for the channel to close, or say "exit status -1". ssh2's
  // SFTPWrapper has no exit(); its protocol object does. Handles left open are closed with it.
  sftp.on('end', () => {
    for (const h of handles.values()) if (h.fd !== undefined) fs.closeSync(h.fd);
    handles.clear();
    const s = sftp as unknown as { _protocol: { exitStatus(chan: number, status: number): void }; outgoing: { id: number; state: string } };
    if (s.outgoing.state === 'open') s._protocol.exitStatus(s.outgoing.id, 0);
    sftp.end();
  });

  sftp.on('REALPATH', (id, p) => sftp.name(id, [{ filename: abs(p), longname: abs(p), attrs: {} as never }]));
  sftp.on('STAT', (id, p) => op(id, () => sftp.attrs(id, attrs(fs.statSync(abs(p))))));
  sftp.on('LSTAT', (id, p) => op(id, () => sftp.attrs(id, attrs(fs.lstatSync(abs(p))))));
  sftp.on('OPEN', (id, p, flags, a) =>
    op(id, () => {
      const write = flags & OPEN_MODE.WRITE;
      const mode = write ? (flags & OPEN_MODE.TRUNC || flags & OPEN_MODE.CREAT ? (flags & OPEN_MODE.READ ? 'w+' : 'w') : flags & OPEN_MODE.APPEND ? 'a' : 'r+') : 'r';
      sftp.handle(id, handle({ fd: fs.openSync(abs(p), mode, a?.mode ?? 0o644) }));
    }),
  );
  sftp.on('READ', (id, h, offset, length) =>
    op(id, () => {
      const fd = get(h)?.fd;
      if (fd === undefined) return void sftp.status(id, STATUS_CODE.FAILURE);
      const buf = Buffer.alloc(length);
      const n = fs.readSync(fd, buf, 0, length, offset);
      if (!n) sftp.status(id, STATUS_CODE.EOF);
      else sftp.data(id, buf.subarray(0, n));
    }),
  );
  sftp.on('WRITE', (id, h, offset, data) =>
    op(id, () => {
      const fd = get(h)?.fd;
      if (fd === undefined) return void sftp.status(id, STATUS_CODE.FAILURE);
      fs.writeSync(fd, data, 0, data.length, offset);
      ok(id);
    }),
  );
  sftp.on('FSTAT', (id, h) => op(id, () => sftp.attrs(id, attrs(fs.fstatSync(get(h)!.fd!)))));
  sftp.on('FSETSTAT', (id, h, a) =>
    op(id, () => {
      const fd = get(h)?.fd;
      if (fd !== undefined && a.size !== undefined) fs.ftruncateSync(fd, a.size);
      if (fd !== undefined && a.mode !== undefined) fs.fchmodSync(fd, a.mode);
      ok(id);
    }),
  );
  sftp.on('SETSTAT', (id, p, a) =>
    op(id, () => {
      if (a.mode !== undefined) fs.chmodSync(abs(p), a.mode);
      if (a.size !== undefined) fs.truncateSync(abs(p), a.size);
      ok(id);
    }),
  );
  sftp.on('CLOSE', (id, h) =>
    op(id, () => {
      const e = get(h);
      if (!e) return void sftp.status(id, STATUS_CODE.FAILURE);
      handles.delete(h.readUInt32BE());
      if (e.fd !== undefined) fs.closeSync(e.fd);
      ok(id);
    }),
  );
  sftp.on('OPENDIR', (id, p) =>
    op(id, () => {
      fs.readdirSync(abs(p));
      sftp.handle(id, handle({ dir: abs(p) }));
    }),
  );
  sftp.on('READDIR', (id, h) =>
    op(id, () => {
      const e = get(h);
      if (!e?.dir) return void sftp.status(id, STATUS_CODE.FAILURE);
      if (e.listed) return void sftp.status(id, STATUS_CODE.EOF);
      e.listed = true;
      sftp.name(id, fs.readdirSync(e.dir).map((n) => ({ filename: n, longname: n, attrs: attrs(fs.lstatSync(path.join(e.dir!, n))) })) as never);
    }),
  );
  sftp.on('MKDIR', (id, p) => op(id, () => (fs.mkdirSync(abs(p)), ok(id))));
  sftp.on('RMDIR', (id, p) => op(id, () => (fs.rmdirSync(abs(p)), ok(id))));
  sftp.on('REMOVE', (id, p) => op(id, () => (fs.unlinkSync(abs(p)), ok(id))));
  sftp.on('RENAME', (id, a, b) => op(id, () => (fs.renameSync(abs(a), abs(b)), ok(id))));
}
