#!/usr/bin/env bash
# The browser the page tests drive (playwright-core with executablePath /usr/bin/chromium): Debian's
# chromium package. Called by .ci/run and by the page tests' set-up when it is missing.
set -euo pipefail
"$(dirname "$0")/install-debian.sh" /usr/bin/chromium chromium
/usr/bin/chromium --version
