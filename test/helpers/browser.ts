// Real Chromium from Debian, driven by playwright-core. Installed by scripts/install-chromium.sh when
// missing (the project's test set-up; .ci/run calls it too).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { PKG_ROOT } from '../../src/paths.ts';
import path from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) execFileSync(path.join(PKG_ROOT, 'scripts', 'install-chromium.sh'), { stdio: 'inherit' });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** A page of a new browser context signed in with a session cookie (the way a person is, after signing in). */
export async function signedInPage(browser: Browser, base: string, session: string, viewport = { width: 1000, height: 700 }) {
  const context = await browser.newContext({ viewport });
  await context.addCookies([{ name: 'coder_git_session', value: session, url: base }]);
  return context.newPage();
}
