# Start: the agent, in its own process group (stop signals the agent and its children) and not
# waited for by Terraform; its pid file beside the folder, where the workspace's user cannot rewrite it.
# In: DIR, ROOT, RUN_AS, MOTD, AGENT_COMMAND, INIT, TOKEN, URL.
. "$(dirname "$0")/who.sh"
# remade on every start, so a start repairs a folder removed by hand (see main.tf's last output)
home
as sh -c 'printf "%s\n" "$1" > "$2/.motd"' sh "$MOTD" "$DIR"
cmd="$AGENT_COMMAND"
[ -n "$cmd" ] || cmd="exec tail -f /dev/null"
cache=
note=
if [ -n "$switch" ] && [ -n "$AGENT_COMMAND" ]; then
  # The runner's own agent when the user can read its files (the absolute paths in the command);
  # else (coder-git installed in a private folder, as npx as root does) the agent from the server,
  # as any remote workspace gets it, cached per user beside the workspace folders.
  unreadable=$(printf '%s' "$cmd" | xargs printf '%s\n' 2>/dev/null | while IFS= read -r w; do
    case "$w" in /*) if [ -e "$w" ] && ! as test -r "$w"; then echo "$w"; break; fi ;; esac
  done || true)
  if [ -n "$unreadable" ]; then
    [ -n "$INIT" ] || fail "user $user cannot read $unreadable, which the agent command needs, and there is no coder_agent_init_script to fetch the agent with"
    # (Terraform hides a provisioner's output when its environment holds the token: the note goes
    # to the agent's log)
    note="local: user $user cannot read $unreadable; the agent comes from the server (install.sh)"
    cmd="$INIT"
    cache="$ROOT/.coder-git-agent/$user"
    mkdir -p "$cache" && chmod 755 "$ROOT/.coder-git-agent" && chown "$uid:$gid" "$cache" && chmod 700 "$cache"
  fi
fi
exec_as env CODER_AGENT_TOKEN="$TOKEN" CODER_AGENT_URL="$URL" CODER_AGENT_CACHE_DIR="$cache" \
  setsid sh -c 'cd "$1" && exec > .agent.log 2>&1 && { [ -z "$3" ] || echo "$3"; } && exec sh -c "$2"' sh "$DIR" "$cmd" "$note" < /dev/null > /dev/null 2>&1 &
echo $! > "$DIR.agent.pid"
