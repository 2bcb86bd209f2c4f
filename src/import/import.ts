// `coder-git import --from-coder URL`: reads a Coder deployment through its REST API and writes a new
// config repo holding its users, templates and workspaces (README: Moving from Coder). The repo is
// validated before it is committed; what could not be carried over is listed in IMPORT-NOTES.md and
// on the terminal.
import { stringify } from 'yaml';
import { CoderGitError } from '../errors.ts';
import { loadConfig } from '../config/index.ts';
import { textLine } from '../config/format.ts';
import { commitNewRepo, deploymentFile, emptyRepoDir, repoScaffold, writeNewFiles } from '../init.ts';
import { VERSION } from '../version.ts';
import { coderClient } from './coder-api.ts';
import { mapSnapshot, type CoderSnapshot } from './map.ts';
import { readTar } from './tar.ts';

export interface ImportOptions {
  from: string;
  token: string;
  dir: string;
  accessUrl: string;
  commit: boolean;
  log: (m: string) => void;
}

export interface ImportResult {
  dir: string;
  counts: { users: number; templates: number; workspaces: number };
  notes: string[];
  valid: boolean;
  errors: string[];
  commit?: string;
}

async function snapshot(from: string, token: string, log: (m: string) => void): Promise<CoderSnapshot> {
  const api = coderClient(from, token);
  const [users, templates, workspaces] = await Promise.all([api.users(), api.templates(), api.workspaces()]);
  log(`read ${users.length} users, ${templates.length} templates, ${workspaces.length} workspaces from ${from}`);
  const withFiles = await Promise.all(
    templates.map(async (t) => {
      const v = await api.templateVersion(t.active_version_id);
      const [archive, parameters, variables] = await Promise.all([api.file(v.job.file_id), api.richParameters(v.id), api.variables(v.id)]);
      let files;
      try {
        files = await readTar(archive);
      } catch (err) {
        throw new CoderGitError('CG_HTTP', `template ${t.name}: its files (GET /api/v2/files/${v.job.file_id}) are not a tar archive: ${(err as Error).message}`);
      }
      return { template: t, files, parameters, variables };
    }),
  );
  const ws = await Promise.all(workspaces.map(async (w) => ({ workspace: w, parameters: await api.buildParameters(w.latest_build.id) })));
  return { users, templates: withFiles, workspaces: ws };
}

function deployment(accessUrl: string, tf: { variables: Record<string, unknown>; env: string[] }): string {
  const indent = (o: unknown) => stringify(o).trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
  return deploymentFile(accessUrl)
    .replace('  env: []', tf.env.length ? `  env:\n${indent(tf.env)}` : '  env: []')
    .replace('  variables: {}', Object.keys(tf.variables).length ? `  variables:\n${indent(tf.variables)}` : '  variables: {}');
}

function notesFile(from: string, r: { counts: ImportResult['counts']; notes: string[] }): string {
  return `# Imported from Coder

From ${from} by \`coder-git import\` ${VERSION}: ${r.counts.users} users, ${r.counts.templates} templates, ${r.counts.workspaces} workspaces.

## Not carried over, or changed on the way

${r.notes.length ? r.notes.map((n) => `- ${n}`).join('\n') : 'Nothing: everything had a coder-git equivalent.'}

Review these before the first \`coder-git apply\`: applying builds every workspace with coder-git's
runner, next to (not instead of) what Coder runs today.
`;
}

export async function importFromCoder(o: ImportOptions): Promise<ImportResult> {
  if (!/^https?:\/\/[^/?#\s]+/.test(o.from)) throw new CoderGitError('CG_USAGE', `--from-coder ${JSON.stringify(o.from)}: expected the deployment's URL, like https://coder.example.com`);
  const dir = await emptyRepoDir(o.dir, 'import writes a new config repo into an empty or new directory');

  const m = mapSnapshot(await snapshot(o.from, o.token, o.log));
  const files = new Map(m.files);
  files.set('coder-git.yaml', deployment(o.accessUrl, m.terraform));
  for (const [rel, text] of await repoScaffold()) files.set(rel, text);
  files.set('IMPORT-NOTES.md', notesFile(o.from, m));
  await writeNewFiles(dir, files);

  const { result } = await loadConfig({ dir });
  const errors = result.diagnostics.filter((d) => d.severity === 'error').map((d) => textLine(d).trimEnd());
  const out: ImportResult = { dir, counts: m.counts, notes: m.notes, valid: result.state !== undefined, errors };
  if (o.commit) out.commit = await commitNewRepo(dir, `Import from Coder at ${o.from}`);
  return out;
}
