#!/usr/bin/env bash
# The browser the page tests drive (playwright-core with executablePath /usr/bin/chromium): Debian's
# chromium package. Called by .ci/run and by the page tests' set-up when it is missing.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "chromium is missing and this user cannot install it: apt-get install chromium" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq
${SUDO:-} apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
