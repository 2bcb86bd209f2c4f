// --listen HOST:PORT, as the server and `up` take it.
import { CoderGitError } from '../errors.ts';

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  if (!m) throw new CoderGitError('CG_USAGE', `--listen ${JSON.stringify(value)}: expected HOST:PORT, like 127.0.0.1:3000`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}
