#!/usr/bin/env bash
# Installs a Debian package the tests need when its program is missing:
#   scripts/install-debian.sh PROGRAM PACKAGE     e.g. chromium chromium, systemd-analyze systemd
# (PROGRAM may be a file's path instead, for a package that installs no program)
# Called by .ci/run and by the tests' set-up (never by hand).
set -euo pipefail
program=$1 package=$2
have() { case $program in */*) [ -e "$program" ] ;; *) command -v "$program" >/dev/null ;; esac; }
have && exit 0
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "$program is missing and this user cannot install it: apt-get install $package" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq
${SUDO:-} apt-get install -y -qq --no-install-recommends "$package" >/dev/null
have
