import type { CommandModule } from 'yargs';
import { writeFile, readFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { GitRepo } from '../../git/git.ts';
import { checkChanges } from '../../governance/check.ts';
import { codeowners, CODEOWNERS_PATH } from '../../governance/codeowners.ts';
import { CoderGitError, EXIT } from '../../errors.ts';
import { jsonOption } from '../output.ts';
import { plural } from '../../plural.ts';
import { forgeFor } from '../../pr-comment/forges.ts';
import { forgeOptions, type ForgeArgs } from '../forge-options.ts';

const FORMATS = ['text', 'json', 'github'] as const;

/** The users and groups of a commit, which must validate (a broken base cannot say who may do what). */
async function stateAt(dir: string, ref: string | undefined) {
  const { result } = await loadConfig({ dir, ref });
  if (!result.state) throw new CoderGitError('CG_INVALID_CONFIG', `${ref ?? 'the working tree'} does not validate, so it cannot say who may change what; run coder-git validate${ref ? ` --ref ${ref}` : ''}`);
  return result.state;
}

interface CheckArgs extends ForgeArgs {
  dir: string;
  base: string;
  head: string;
  author?: string;
  'approved-by': string[];
  'forge-approvals': boolean;
  format: (typeof FORMATS)[number];
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: "Say whether a pull request's author may change what it changes (self-service by pull request)",
  builder: (y) =>
    forgeOptions(
      jsonOption(y)
        .option('base', { type: 'string', demandOption: true, describe: 'The branch the pull request goes into (its users and groups decide), like origin/main' })
        .option('head', { type: 'string', default: 'HEAD', describe: 'The pull request\'s commit' })
        .option('author', { type: 'string', describe: "Who wrote it: a username, GitHub login or email (default: the pull request's author with --forge-approvals, else $GITHUB_ACTOR or $GITLAB_USER_LOGIN)" })
        .option('approved-by', { type: 'string', array: true, default: [], describe: 'Who approved it (from the forge\'s reviews), each a username, GitHub login or email; repeatable' })
        .option('forge-approvals', { type: 'boolean', default: false, describe: "Read the author and who approved from the code host's API (GitHub reviews of the head commit, GitLab approvals)" }),
    )
      .option('format', { choices: FORMATS, default: 'text' as const, describe: 'text for people, json for tools, github for pull-request annotations' })
      .epilog('Exit status: 0 allowed, 1 something needs an approval it does not have, 64 usage error. With --forge-approvals: GITHUB_TOKEN (pull-requests: read) or GITLAB_TOKEN (read_api), as for coder-git comment.') as never,
  handler: async (argv) => {
    // (the forge's word on the author beats the CI's: a pipeline re-run by a reviewer runs as the reviewer)
    const forge = argv['forge-approvals'] ? await forgeFor({ forge: argv.forge, repo: argv.repo, pr: argv.pr, env: process.env }).approvals() : undefined;
    const author = argv.author ?? (forge?.author || undefined) ?? process.env.GITHUB_ACTOR ?? process.env.GITLAB_USER_LOGIN;
    if (!author) throw new CoderGitError('CG_USAGE', '--author: who wrote the change is needed (or --forge-approvals, or $GITHUB_ACTOR)');
    const base = await stateAt(argv.dir, argv.base);
    const changed = await new GitRepo(argv.dir).changedSince(argv.base, argv.head);
    const approvers = argv['approved-by'].flatMap((a) => a.split(',')).filter(Boolean);
    approvers.push(...(forge?.approvedBy ?? []));
    const findings = checkChanges(base, changed, author, approvers);
    const denied = findings.filter((f) => !f.ok);
    if (argv.format === 'json') process.stdout.write(`${JSON.stringify({ allowed: denied.length === 0, findings }, null, 2)}\n`);
    else if (argv.format === 'github') {
      for (const f of denied) process.stdout.write(`::error file=${f.file},line=1,title=coder-git check::${f.message.replace(/%/g, '%25').replace(/\n/g, '%0A')}\n`);
      process.stdout.write(denied.length ? `${denied.length} of ${findings.length} changed files need an approval\n` : `allowed: ${findings.length} changed files\n`);
    } else {
      for (const f of findings) process.stdout.write(`${f.ok ? 'ok  ' : 'NO  '} ${f.file}: ${f.message}\n`);
      process.stdout.write(denied.length ? `${denied.length} of ${findings.length} changed files need an approval.\n` : `Allowed: ${plural(findings.length, 'changed file')}.\n`);
    }
    process.exitCode = denied.length ? EXIT.error : EXIT.ok;
  },
};

export const codeownersCommand: CommandModule<object, { dir: string; check?: boolean; stdout?: boolean }> = {
  command: 'codeowners',
  describe: `Write ${CODEOWNERS_PATH} from the users and groups, so the forge asks the right people to review`,
  builder: (y) =>
    y
      .option('check', { type: 'boolean', describe: 'Change nothing; exit 1 when the file is missing or stale (for CI)' })
      .option('stdout', { type: 'boolean', describe: 'Print it instead of writing it' }) as never,
  handler: async (argv) => {
    const state = await stateAt(argv.dir, undefined);
    const repo = new GitRepo(argv.dir);
    // The forge reads CODEOWNERS at the repository root; a config repo in a subfolder gets its paths prefixed.
    const prefix = (await repo.isRepo()) ? await repo.prefix() : '';
    const text = codeowners(state, prefix);
    if (argv.stdout) return void process.stdout.write(text);
    const file = path.join(argv.dir, CODEOWNERS_PATH);
    const now = await readFile(file, 'utf8').catch(() => undefined);
    if (argv.check) {
      process.stdout.write(now === text ? `${CODEOWNERS_PATH} is current\n` : `${CODEOWNERS_PATH} is ${now === undefined ? 'missing' : 'stale'}; run coder-git codeowners\n`);
      process.exitCode = now === text ? EXIT.ok : EXIT.error;
      return;
    }
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    process.stdout.write(now === text ? `${CODEOWNERS_PATH} is current\n` : `wrote ${CODEOWNERS_PATH}\n`);
  },
};
