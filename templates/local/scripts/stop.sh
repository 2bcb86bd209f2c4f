# Stop: the agent's process group, TERM then (after 10 s) KILL. In: DIR.
[ -f "$DIR.agent.pid" ] || exit 0
pid=$(cat "$DIR.agent.pid")
kill -TERM "-$pid" 2>/dev/null || true
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill -KILL "-$pid" 2>/dev/null || true
rm -f "$DIR.agent.pid"
