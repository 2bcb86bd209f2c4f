// Prometheus's own linter for the text exposition format (`promtool check metrics`, Debian package
// prometheus): what a scrape would reject or warn about. Installed on first use, as .ci/run does.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const install = fileURLToPath(new URL('../../scripts/install-debian.sh', import.meta.url));

/** promtool's complaints about a /metrics text: [] when it passes. */
export function promtoolProblems(text: string): string[] {
  execFileSync(install, ['promtool', 'prometheus'], { stdio: 'inherit' });
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`.split('\n').filter(Boolean);
  return r.status === 0 && !out.length ? [] : out.length ? out : [`promtool exited with ${r.status}`];
}
