// Reads the tar archives Coder stores template files in (GET /api/v2/files/{id}) with tar-stream:
// ustar, PAX and GNU long names decoded as bytes (Coder's Go writer puts any non-ASCII name in a PAX
// header), header checksums verified. Regular files are returned; everything else (links, devices)
// is reported by name so the import can list it.

import { extract, type Header } from 'tar-stream';

export interface TarEntry {
  path: string;
  content: Buffer;
}

export interface TarContents {
  files: TarEntry[];
  /** entries that are neither files nor folders, e.g. "link.tf (symlink)" */
  skipped: string[];
}

const KINDS: Partial<Record<NonNullable<Header['type']>, string>> = { symlink: 'symlink', link: 'hard link' };

export function readTar(buf: Buffer): Promise<TarContents> {
  return new Promise((resolve, reject) => {
    const out: TarContents = { files: [], skipped: [] };
    const ex = extract();
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c) => void chunks.push(c as Buffer));
      stream.on('end', () => {
        const path = header.name.replace(/^\.\//, '').replace(/\/$/, '');
        if (header.type === 'file' || header.type === 'contiguous-file') out.files.push({ path, content: Buffer.concat(chunks) });
        else if (header.type !== 'directory') out.skipped.push(`${path} (${KINDS[header.type ?? 'file'] ?? `tar type ${header.type}`})`);
        next();
      });
      stream.on('error', reject);
    });
    ex.on('finish', () => resolve(out));
    ex.on('error', (err: Error) => reject(new Error(/unexpected end/i.test(err.message) ? `the archive is cut short (${err.message})` : err.message)));
    ex.end(buf);
  });
}
