// Generates the README's CLI reference from the yargs definitions themselves (each command's
// --help, captured in-process), so the documented flags cannot drift from the real ones.
import { buildCli } from '../cli/main.ts';

/** The help text yargs prints for `coder-git <args> --help`, without printing it. */
function helpOf(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    buildCli([...args, '--help']).parse([...args, '--help'], {}, (err, _argv, output) => (err ? reject(err) : resolve(output)));
  });
}

/** Subcommands listed in a help text's "Commands:" section. */
function subcommands(help: string, prefix: string[]): string[][] {
  const section = /\nCommands:\n([\s\S]*?)\n\n/.exec(help)?.[1] ?? '';
  return [...section.matchAll(/^ {2}coder-git ((?:[a-z-]+ )*[a-z-]+)/gm)].map((m) => m[1]!.split(' ')).filter((c) => c.length === prefix.length + 1 && c.join(' ').startsWith(prefix.join(' ')));
}

export async function cliMarkdown(): Promise<string> {
  const out: string[] = [];
  const walk = async (cmd: string[]) => {
    const help = (await helpOf(cmd)).trimEnd();
    if (cmd.length) out.push(`#### \`coder-git ${cmd.join(' ')}\``, '', '```text', help, '```', '');
    for (const sub of subcommands(help, cmd)) await walk(sub);
  };
  await walk([]);
  return out.join('\n');
}

const START = '<!-- cli:start (generated from the yargs definitions by `npm run docs`) -->';
const END = '<!-- cli:end -->';

export async function readmeWithCli(readme: string): Promise<string> {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md needs the markers ${START} and ${END}`);
  return `${readme.slice(0, a + START.length)}\n\n${await cliMarkdown()}\n${readme.slice(b)}`;
}
