// sslmode as libpq (and psql) understands it, which the driver does not: node-postgres treats
// `prefer` and `require` as `verify-full` (and prints a long warning saying so), so `prefer` and
// `allow` fail against a server without TLS where psql connects. coder-git takes the TLS parameters
// out of the URL and gives the driver the TLS options to try, in libpq's order:
//   disable      plain only
//   allow        plain, then TLS if the server refuses plain
//   prefer       TLS, then plain if the server has no TLS (libpq's default, and ours)
//   require      TLS, no certificate check (as libpq without a root certificate)
//   verify-ca    TLS, the certificate checked against sslrootcert, any host name
//   verify-full  TLS, the certificate and the host name checked
import { readFileSync } from 'node:fs';
import { CoderGitError } from '../errors.ts';

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const MODES: SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
const TLS_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'uselibpqcompat'];

/** The TLS options the driver takes (a subset of node:tls's). */
export interface SslOptions {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  checkServerIdentity?: () => undefined;
}

export interface SslPlan {
  /** the URL without its TLS parameters */
  connectionString: string;
  mode: SslMode;
  /** what to try, in order: false is a plain connection */
  tries: (false | SslOptions)[];
}

export function sslPlan(url: string, fallback: SslMode = 'prefer'): SslPlan {
  const u = new URL(url);
  const given = u.searchParams.get('sslmode') ?? (u.searchParams.get('ssl') === 'true' ? 'require' : undefined);
  if (given !== undefined && !MODES.includes(given as SslMode)) {
    throw new CoderGitError('CG_USAGE', `--postgres-url: sslmode=${given} is not one of ${MODES.join(', ')}`);
  }
  const mode = (given as SslMode | undefined) ?? fallback;
  const file = (param: string) => {
    const p = u.searchParams.get(param);
    if (!p) return undefined;
    try {
      return readFileSync(p, 'utf8');
    } catch (err) {
      throw new CoderGitError('CG_USAGE', `--postgres-url: ${param}=${p}: ${(err as Error).message}`);
    }
  };
  const ca = file('sslrootcert');
  const client = { cert: file('sslcert'), key: file('sslkey') };
  for (const p of TLS_PARAMS) u.searchParams.delete(p);
  // libpq checks the certificate under `require` only when a root certificate is given
  const unchecked: SslOptions = { ...client, rejectUnauthorized: false };
  const checked: SslOptions = { ...client, ...(ca ? { ca } : {}), rejectUnauthorized: true };
  const tls: Record<SslMode, (false | SslOptions)[]> = {
    disable: [false],
    allow: [false, unchecked],
    prefer: [unchecked, false],
    require: [ca ? { ...checked, checkServerIdentity: () => undefined } : unchecked],
    'verify-ca': [{ ...checked, checkServerIdentity: () => undefined }],
    'verify-full': [checked],
  };
  return { connectionString: u.toString(), mode, tries: tls[mode] };
}

/** The next try may succeed where this one failed: the server has no TLS, or wants it. */
export function worthAnotherTry(err: unknown): boolean {
  const m = (err as Error)?.message ?? '';
  return /does not support SSL|no encryption|SSL off|requires SSL|pg_hba\.conf/i.test(m) || (err as { code?: string }).code === '28000';
}
