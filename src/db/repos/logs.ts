// The build_logs table.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogRow {
  id: string;
  at: Date;
  stream: LogStream;
  line: string;
}

export const logs = {
  append: (q: Q, buildId: string, rows: { stream: LogStream; line: string }[]) =>
    rows.length ? q.none(sql('build_logs/append'), { build_id: buildId, rows }) : Promise.resolve(),
  read: (q: Q, buildId: string, after = '0', limit = 1000) => q.any<LogRow>(sql('build_logs/read'), { build_id: buildId, after, limit }),
  tail: (q: Q, buildId: string, limit: number) => q.any<LogRow>(sql('build_logs/tail'), { build_id: buildId, limit }),
};
