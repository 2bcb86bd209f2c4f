// Whose request it is. Forwarded headers (X-Forwarded-For) are believed only from the proxies the
// operator names (`server --trusted-proxies`), never from anyone: otherwise every request could
// pick its own address, and with it a fresh sign-in limit and a forged audit trail. A forwarded
// value that is not an address (a trusted proxy passing on what a client wrote) is ignored: the
// proxy's own address is used, and no header ever makes a request fail.
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { CoderGitError } from '../errors.ts';

/** proxy-addr's names for address ranges, accepted beside addresses and CIDRs */
const NAMED = ['loopback', 'linklocal', 'uniquelocal'];

/** `--trusted-proxies`: a comma-separated list of addresses, CIDRs or loopback/linklocal/uniquelocal. */
export function parseTrustedProxies(value: string | undefined, flag = '--trusted-proxies'): string[] {
  const items = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (NAMED.includes(item)) continue;
    const [addr, bits, ...rest] = item.split('/');
    const family = isIP(addr ?? '');
    const max = family === 6 ? 128 : 32;
    const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
    if (!family || !okBits || rest.length) throw new CoderGitError('CG_USAGE', `${flag}: ${JSON.stringify(item)} is not an address, a CIDR (10.0.0.0/8, fd00::/8) or one of ${NAMED.join(', ')}`);
  }
  return items;
}

/** The client's address: req.ip when it is one (forwarded by a trusted proxy or the peer itself), else the peer's. */
export function clientIp(req: FastifyRequest): string {
  let ip: string | undefined;
  try {
    ip = req.ip;
  } catch {
    ip = undefined;
  }
  if (ip && isIP(ip)) return ip;
  const peer = req.socket?.remoteAddress;
  return peer && isIP(peer) ? peer : '0.0.0.0';
}
