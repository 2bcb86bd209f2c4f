// Reads the tar archives Coder stores template files in (GET /api/v2/files/{id}): ustar headers,
// with PAX ('x') and GNU ('L') long names. Regular files are returned; everything else (links,
// devices) is reported by name so the import can list it. Pure.

export interface TarEntry {
  path: string;
  content: Buffer;
}

export interface TarContents {
  files: TarEntry[];
  /** entries that are neither files nor folders, e.g. "link.tf (symlink)" */
  skipped: string[];
}

const BLOCK = 512;

const field = (h: Buffer, start: number, len: number) => {
  const s = h.subarray(start, start + len);
  const end = s.indexOf(0);
  return s.subarray(0, end < 0 ? len : end).toString('utf8');
};
const octal = (h: Buffer, start: number, len: number) => parseInt(field(h, start, len).trim() || '0', 8);

function paxPath(data: Buffer): string | undefined {
  let rest = data.toString('utf8');
  while (rest.length) {
    const m = /^(\d+) /.exec(rest);
    if (!m) break;
    const rec = rest.slice(m[0].length, Number(m[1]) - 1);
    rest = rest.slice(Number(m[1]));
    if (rec.startsWith('path=')) return rec.slice(5);
  }
  return undefined;
}

export function readTar(buf: Buffer): TarContents {
  const out: TarContents = { files: [], skipped: [] };
  let longName: string | undefined;
  let ended = false;
  for (let off = 0; off + BLOCK <= buf.length; ) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) {
      ended = true;
      break;
    }
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156]!);
    const prefix = field(h, 257, 6).startsWith('ustar') ? field(h, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    const data = buf.subarray(off + BLOCK, off + BLOCK + size);
    if (data.length < size) throw new Error(`the archive is cut short in ${name}`);
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      longName = paxPath(data);
      continue;
    }
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    longName = undefined;
    if (type === 'g') continue;
    const path = name.replace(/^\.\//, '');
    if (type === '0' || type === '\0' || type === '7') out.files.push({ path, content: Buffer.from(data) });
    else if (type !== '5') out.skipped.push(`${path} (${type === '2' ? 'symlink' : type === '1' ? 'hard link' : `tar type ${type}`})`);
  }
  // Every writer (Go's archive/tar included) ends an archive with zero blocks: without them it was cut.
  if (!ended) throw new Error('the archive is cut short (no end-of-archive marker)');
  return out;
}
