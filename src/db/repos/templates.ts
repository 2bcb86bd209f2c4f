// The templates and template_versions tables.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

export interface TemplateRow {
  id: string;
  name: string;
  display_name: string | null;
  description: string | null;
  icon: string | null;
  active_version_id: string | null;
  active_hash: string | null;
}

export interface TemplateInput {
  name: string;
  display_name: string | null;
  description: string | null;
  icon: string | null;
}

export interface TemplateVersionInput {
  template: string;
  content_hash: string;
  commit_sha: string | null;
  manifest: unknown;
  /** path → base64 */
  files: Record<string, string>;
}

export const templates = {
  load: (q: Q) => q.any<TemplateRow>(sql('templates/load')),
  upsert: (q: Q, rows: TemplateInput[]) => (rows.length ? q.none(sql('templates/upsert'), { rows }) : Promise.resolve()),
  remove: (q: Q, names: string[]) => (names.length ? q.none(sql('templates/delete'), { names }) : Promise.resolve()),
  /** Records versions (a known content hash is kept) and makes each its template's active version. */
  upsertVersions: (q: Q, rows: TemplateVersionInput[]) => (rows.length ? q.none(sql('template_versions/upsert'), { rows }) : Promise.resolve()),
  versionFiles: async (q: Q, id: string) => (await q.oneOrNone<{ files: Record<string, string> }>(sql('template_versions/files'), { id }))?.files,
};
