// Which pull or merge request a command talks to (comment, check): the code host and its numbers,
// from the CI environment by default.
import type { Argv } from 'yargs';
import { FORGES, type ForgeName } from '../pr-comment/forges.ts';
import { envNote, envString } from './env.ts';

export interface ForgeArgs {
  forge?: ForgeName;
  repo?: string;
  pr?: number;
}

export function forgeOptions<T>(y: Argv<T>) {
  return y
    .option('forge', { choices: FORGES, default: envString('forge') as ForgeName | undefined, describe: `The code host (default: the one whose CI this runs in)${envNote('forge')}` })
    .option('repo', { type: 'string', describe: 'GitHub OWNER/NAME or GitLab project (default: from the CI environment)' })
    .option('pr', { type: 'number', describe: 'Pull request number or merge request IID (default: from the CI environment)' });
}
