#!/usr/bin/env bash
# Run the README's two commands as a newcomer would: on a fresh clone of this repository's HEAD, in a
# temporary folder, with a fresh virtual environment (the clone has no .venv) and an empty $DOMAINLM_HOME.
# Prints the time each command took and exits non-zero when one fails.
#
#   scripts/fresh_clone_check.sh               both commands (30+ minutes of CPU on a 2-core machine)
#   scripts/fresh_clone_check.sh --only demo   only `make demo`; --only tests: only `make test`
#   scripts/fresh_clone_check.sh --dry-run     clone, then print what would run, and run nothing
#
# Only committed work is checked: the clone is of HEAD, not of the working tree.
# The commands are read from the README's "The two commands" block, so the check follows the README.
# `make demo` ends by serving the chat page; the check waits for the URL it prints to answer (/health and the
# chat page at /), then stops the server and counts the demo as passed.
set -euo pipefail

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --only demo|tests   run one of the two commands
  --dry-run           print the commands (clone included) without running the README's commands
  --keep              keep the temporary folder (printed at the end)
  --python PATH       the Python the Makefile creates .venv with (default: python3)
  --timeout-s N       give up on one command after N seconds (default 3600)
EOF
}

ONLY=""
DRY_RUN=0
KEEP=0
PYTHON_BIN="${PYTHON:-python3}"
TIMEOUT_S=3600
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY="${2:-}"; shift 2 ;;
    --only=*) ONLY="${1#--only=}"; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --keep) KEEP=1; shift ;;
    --python) PYTHON_BIN="${2:-}"; shift 2 ;;
    --timeout-s) TIMEOUT_S="${2:-}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fresh_clone_check: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$ONLY" in
  ""|demo|tests) ;;
  *) echo "fresh_clone_check: --only takes demo or tests, not '$ONLY'" >&2; exit 2 ;;
esac

REPO="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
COMMIT="$(git -C "$REPO" rev-parse HEAD)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/domainlm-fresh-clone.XXXXXX")"
CLONE="$WORK/domainlm"
export DOMAINLM_HOME="$WORK/domainlm-home"
export PYTHON="$PYTHON_BIN"  # the Makefile creates .venv with $(PYTHON)
# Test runs would otherwise reuse a developer's converted models through this variable (tests/conftest.py).
unset DOMAINLM_TEST_HOME VIRTUAL_ENV
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$KEEP" = 1 ]; then
    echo "kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
show() { printf '+ %s\n' "$*"; }

say "clone $REPO at $COMMIT into $CLONE"
show "git clone --quiet $REPO $CLONE && git -C $CLONE checkout --quiet --detach $COMMIT"
git clone --quiet "$REPO" "$CLONE"
git -C "$CLONE" checkout --quiet --detach "$COMMIT"
mkdir -p "$DOMAINLM_HOME"

# The README's two commands: the `make ...` lines of the first ```bash block after "## The two commands".
mapfile -t COMMANDS < <(awk '
  /^## The two commands/ { section = 1; next }
  section && /^## / { exit }
  section && /^```bash/ { inside = 1; next }
  inside && /^```/ { exit }
  inside { sub(/[[:space:]]*#.*/, ""); if ($0 != "") print }
' "$CLONE/README.md")
if [ "${#COMMANDS[@]}" -ne 2 ]; then
  echo "fresh_clone_check: expected two commands in the README's \"The two commands\" block, found ${#COMMANDS[@]}: ${COMMANDS[*]:-none}" >&2
  exit 1
fi

SELECTED=()
for command in "${COMMANDS[@]}"; do
  case "$command" in
    *demo*) kind=demo ;;
    *test*) kind=tests ;;
    *) echo "fresh_clone_check: cannot tell whether '$command' is the demo or the tests command" >&2; exit 1 ;;
  esac
  if [ -z "$ONLY" ] || [ "$ONLY" = "$kind" ]; then
    SELECTED+=("$kind:$command")
  fi
done

say "environment"
show "cd $CLONE"
show "export DOMAINLM_HOME=$DOMAINLM_HOME   # empty"
show "export PYTHON=$PYTHON_BIN             # the Makefile creates $CLONE/.venv with it"
for entry in "${SELECTED[@]}"; do
  show "${entry#*:}"
done
if [ "$DRY_RUN" = 1 ]; then
  echo "dry run: nothing else was run"
  exit 0
fi

http_ok() {
  "$CLONE/.venv/bin/python" - "$1" <<'EOF' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
    sys.exit(0 if response.status == 200 else 1)
EOF
}

# The port the demo serves on: `serve.port` of the bundled example that `domainlm demo` copies.
example_port() {
  awk '/^serve:/ { inside = 1; next } inside && /^[^ #]/ { exit } inside && $1 == "port:" { print $2; exit }' \
    "$CLONE/examples/wine-shop/domainlm.yaml"
}

# `make demo` ends in `domainlm serve`, which runs until stopped: wait for the URL it prints to answer
# (health and chat page), then stop it.
run_demo() {
  local command="$1" log="$WORK/demo.log" deadline=$((SECONDS + TIMEOUT_S)) port url="" tail_pid
  port="$(example_port)"
  port="${port:-8000}"
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "fresh_clone_check: port $port is in use and the demo serves there; free it first." >&2
    return 1
  fi
  : >"$log"
  # Job control gives the demo its own process group, so stopping it stops make, domainlm and the server.
  set -m
  (cd "$CLONE" && exec bash -c "$command") >"$log" 2>&1 &
  SERVER_PID=$!
  set +m
  tail -n +1 -f "$log" &
  tail_pid=$!
  local status=1
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    url="$(grep -o 'Chat page: http://[^ ]*/' "$log" | head -n 1 | sed 's/^Chat page: //')" || true
    if [ -n "$url" ] && http_ok "${url}health" && http_ok "$url"; then
      echo "fresh_clone_check: the demo serves $url (health and chat page answered)"
      status=0
      break
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "fresh_clone_check: the demo did not serve within ${TIMEOUT_S}s" >&2
      break
    fi
    sleep 5
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  else
    local code=0
    wait "$SERVER_PID" || code=$?
    echo "fresh_clone_check: '$command' exited ($code) without serving; log: $log" >&2
  fi
  SERVER_PID=""
  kill "$tail_pid" 2>/dev/null || true
  wait "$tail_pid" 2>/dev/null || true
  return "$status"
}

run_tests() {
  (cd "$CLONE" && timeout "$TIMEOUT_S" bash -c "$1")
}

RESULTS=()
FAILED=0
for entry in "${SELECTED[@]}"; do
  kind="${entry%%:*}"
  command="${entry#*:}"
  say "$command"
  started=$SECONDS
  status=0
  if [ "$kind" = demo ]; then
    run_demo "$command" || status=$?
  else
    run_tests "$command" || status=$?
  fi
  elapsed=$((SECONDS - started))
  if [ "$status" -eq 0 ]; then
    RESULTS+=("$(printf '%-10s %-5s %6ds' "$command" ok "$elapsed")")
  else
    RESULTS+=("$(printf '%-10s %-5s %6ds  (exit %d)' "$command" FAIL "$elapsed" "$status")")
    FAILED=1
  fi
done

say "fresh clone of $COMMIT"
printf '%s\n' "${RESULTS[@]}"
exit "$FAILED"
