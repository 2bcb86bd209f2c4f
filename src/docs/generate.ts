// `npm run docs`: rewrites the README's generated sections (config reference from schemas/, CLI
// reference from yargs). test/docs.test.ts fails when either is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { README, readmeWithReference } from './reference.ts';
import { readmeWithCli } from './cli.ts';

writeFileSync(README, await readmeWithCli(readmeWithReference(readFileSync(README, 'utf8'))));
