# Sourced by the other scripts: who the workspace runs as (run_as), and `as CMD...`, which runs CMD
# as that user with an environment of its own. Everything written inside the folder is written by
# that user, never by a root runner: the folder is the workspace's, and a link its owner planted
# there must not make root write elsewhere.
# In: DIR (the workspace folder), RUN_AS.
set -e
fail() { echo "local: $*" >&2; exit 1; }
me=$(id -un)
user="$RUN_AS"
if [ -z "$user" ]; then
  if [ "$(id -u)" = 0 ]; then user=nobody; else user="$me"; fi
fi
uid=$(id -u "$user" 2>/dev/null) || fail "run_as: there is no user '$user' on this machine (getent passwd $user); name an existing user in coder-git.yaml terraform.variables.run_as"
gid=$(id -g "$user")
shell=$(getent passwd "$user" | cut -d: -f7)
case "$shell" in "" | */nologin | */false) if [ -x /bin/bash ]; then shell=/bin/bash; else shell=/bin/sh; fi ;; esac
switch=
if [ "$uid" != "$(id -u)" ]; then
  [ "$(id -u)" = 0 ] || fail "run_as = $user needs a root runner; this runner runs as $me (leave run_as empty to run workspaces as $me)"
  command -v setpriv >/dev/null 2>&1 || fail "setpriv (util-linux) is needed to run workspaces as $user"
  switch=1
fi
# exec_as replaces the shell (a background `exec_as ... &` leaves no shell holding Terraform's
# output open); as runs it in a subshell.
exec_as() {
  [ -n "$switch" ] || exec "$@"
  exec setpriv --reuid="$uid" --regid="$gid" --init-groups \
    env -i HOME="$DIR" USER="$user" LOGNAME="$user" SHELL="$shell" LANG="${LANG:-C.UTF-8}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
as() { (exec_as "$@"); }
# the folder, made by the runner, owned by the user, reachable by it
home() {
  mkdir -p "$DIR"
  if [ -n "$switch" ]; then
    [ "$(stat -c %u "$DIR")" = "$uid" ] || chown -hR "$uid:$gid" "$DIR"
    chmod 700 "$DIR"
    as test -w "$DIR" || fail "user $user cannot reach $DIR: every folder above it must be searchable by that user (chmod o+x), or set terraform.variables.workspaces_root to a folder that is"
  fi
  as touch "$DIR/.coder-git-workspace"
}
