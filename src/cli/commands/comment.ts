import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { CoderGitError } from '../../errors.ts';
import { forgeFor, GITHUB_LIMIT } from '../../pr-comment/forges.ts';
import { forgeOptions, type ForgeArgs } from '../forge-options.ts';
import { commentParts } from '../../pr-comment/split.ts';
import { postSticky } from '../../pr-comment/sticky.ts';
import { envNote, envString } from '../env.ts';
import { plural } from '../../plural.ts';

interface Args extends ForgeArgs {
  dir: string;
  file: string;
  marker?: string;
  'dry-run': boolean;
}

async function readBody(file: string): Promise<string> {
  try {
    if (file !== '-') return await readFile(file, 'utf8');
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    throw new CoderGitError('CG_IO', `cannot read ${file === '-' ? 'stdin' : file}: ${(err as Error).message}`, { cause: err });
  }
}

/** One sticky comment per config repo folder, so a monorepo's plans do not overwrite each other. */
function defaultMarker(dir: string): string {
  const rel = path.relative(process.cwd(), path.resolve(dir));
  return rel && !rel.startsWith('..') ? `plan-${rel.replace(/[^\w.-]+/g, '-')}`.slice(0, 64) : 'plan';
}

export const commentCommand: CommandModule<object, Args> = {
  command: 'comment [file]',
  describe: 'Post a plan (markdown) as one sticky comment on the pull or merge request, updated in place on later runs',
  builder: (y) =>
    forgeOptions(y)
      .positional('file', { type: 'string', default: '-', describe: 'The markdown to post, e.g. from coder-git plan --format markdown ("-": stdin)' })
      .option('marker', { type: 'string', default: envString('marker'), defaultDescription: '"plan", or "plan-<folder>" for a config repo in a subfolder (--dir)', describe: `Tells this comment from coder-git's other comments on the same pull request${envNote('marker')}` })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Print the comment bodies (split for GitHub) instead of posting them' })
      .epilog('Token: GITHUB_TOKEN or CODER_GIT_GITHUB_TOKEN; GITLAB_TOKEN or CODER_GIT_GITLAB_TOKEN (a project access token with the api scope).') as never,
  handler: async (argv) => {
    const marker = argv.marker ?? defaultMarker(argv.dir);
    if (!/^[\w.-]{1,64}$/.test(marker)) throw new CoderGitError('CG_USAGE', `--marker ${JSON.stringify(marker)}: letters, digits, ".", "_" and "-" only`);
    const body = await readBody(argv.file);
    if (!body.trim()) throw new CoderGitError('CG_USAGE', `${argv.file === '-' ? 'stdin' : argv.file} is empty: nothing to post (pipe coder-git plan --format markdown into it)`);
    if (argv['dry-run']) {
      const parts = commentParts(body, GITHUB_LIMIT, marker);
      process.stdout.write(parts.map((p, i) => `----- comment ${i + 1} of ${parts.length} (${p.length} characters) -----\n${p}`).join('\n'));
      return;
    }
    const forge = forgeFor({ forge: argv.forge, repo: argv.repo, pr: argv.pr, env: process.env });
    const r = await postSticky(forge, body, marker);
    const did = [r.created && `${r.created} created`, r.updated && `${r.updated} updated`, r.unchanged && `${r.unchanged} unchanged`, r.deleted && `${r.deleted} deleted`].filter(Boolean).join(', ');
    process.stdout.write(`${forge.where}: plan comment in ${plural(r.parts, 'part')} (${did})\n`);
  },
};
