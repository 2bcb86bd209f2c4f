// SQL lives in src/db/sql/<table>/<name>.sql, loaded once as pg-promise QueryFiles (minified,
// named parameters like ${rows}). A missing or unreadable file is a bug: it throws at first use.
import pgPromise, { type QueryFile as QueryFileType } from 'pg-promise';
import { pkgPath } from '../paths.ts';

const { QueryFile } = pgPromise as unknown as { QueryFile: typeof QueryFileType };
const files = new Map<string, QueryFileType>();

export function sql(name: string): QueryFileType {
  let qf = files.get(name);
  if (!qf) {
    qf = new QueryFile(pkgPath('src', 'db', 'sql', `${name}.sql`), { minify: true, noWarnings: true });
    if (qf.error) throw qf.error;
    files.set(name, qf);
  }
  return qf;
}
