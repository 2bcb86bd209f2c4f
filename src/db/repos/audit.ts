// The audit_log table: append-only.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

export interface AuditInput {
  actor: string;
  action: string;
  target?: string | null;
  details?: Record<string, unknown>;
  sync_id?: string | null;
  ip?: string | null;
}

export interface AuditRow extends Required<AuditInput> {
  id: string;
  at: Date;
}

export const audit = {
  append: (q: Q, e: AuditInput) => q.none(sql('audit_log/insert'), { target: null, details: {}, sync_id: null, ip: null, ...e }),
  latestFor: (q: Q, action: string, target: string) => q.oneOrNone<AuditRow>(sql('audit_log/latest-for'), { action, target }),
  recent: (q: Q, limit = 50, before: string | null = null) => q.any<AuditRow>(sql('audit_log/recent'), { limit, before }),
};
