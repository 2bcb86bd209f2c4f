# Create: the workspace folder (and a git repository in it, if asked).
# In: DIR, RUN_AS, INIT_GIT.
. "$(dirname "$0")/who.sh"
home
if [ "$INIT_GIT" = true ]; then as git -C "$DIR" init -q; fi
