#!/usr/bin/env bash
# RUN: set up everything (venv, Python and npm packages, database, demo data) and serve Contacts on
# http://127.0.0.1:8000 with Daphne. Safe to run again: unchanged steps are skipped, seeding is idempotent.
#
# Environment: HOST/PORT (default 127.0.0.1:8000), DATABASE_URL, REDIS_URL and the rest of the README's
# Configuration table, CONTACTS_WORKER=0 to skip the background Celery worker.
# Without a reachable Redis the app still runs (local-memory cache, in-process channel layer, jobs inline;
# local use only: with DEBUG=0 the app always uses Redis and /healthz reports it while it is down).
# shellcheck source=lib/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

# Local use: the settings default to production (DEBUG off, which needs SECRET_KEY and ALLOWED_HOSTS).
export DEBUG="${DEBUG:-1}"

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
RUN_DIR="$VENV/run" # local state and logs of the background processes (inside .venv: never committed)
PIDS=()

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# start_background NAME CMD... : runs CMD with its output in $RUN_DIR/NAME.log; stopped when this script ends.
start_background() {
  local name="$1"
  shift
  "$@" >"$RUN_DIR/$name.log" 2>&1 &
  PIDS+=("$!")
  log "Started $name (pid $!, log: ${RUN_DIR#"$REPO_ROOT"/}/$name.log)"
}

stop_background() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_background EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Its summary (logins, workspaces, roles) is shown again once the server is up.
seed() { "$VPY" manage.py seed_contacts >"$RUN_DIR/seed.txt"; }

port_open "$HOST" "$PORT" && die "something already listens on $HOST:$PORT (stop it, or run with PORT=8001)"
mkdir -p "$RUN_DIR"
rm -f "$RUN_DIR/seed.txt"

step "Set-up (venv, pip, npm)" setup_all
migrate() {
  ensure_database
  "$VPY" manage.py migrate --noinput
}
step "Database (create if missing, migrate)" migrate
step "Demo data (seed_contacts)" seed

# Jobs run inline without Redis; with Redis they need a worker (and beat, embedded here with -B,
# for periodic tasks). Add further background processes with start_background.
if [ "${CONTACTS_WORKER:-1}" != 0 ] && redis_available; then
  start_background celery "$VENV/bin/celery" -A contactsite worker -B -l info --concurrency 2 \
    --schedule "$RUN_DIR/celerybeat-schedule"
fi

# Daphne's runserver: ASGI (HTTP and WebSockets) with auto-reload on code changes.
"$VPY" manage.py runserver "$HOST:$PORT" &
PIDS+=("$!")
server=$!
for _ in $(seq 1 300); do
  port_open "$HOST" "$PORT" && break
  kill -0 "$server" 2>/dev/null || die "the server did not start (see its output above)"
  sleep 0.2
done
port_open "$HOST" "$PORT" || die "the server did not answer on $HOST:$PORT within 60 s"

echo
log "Contacts is running at http://$HOST:$PORT/  (Ctrl-C stops it)"
[ ! -s "$RUN_DIR/seed.txt" ] || cat "$RUN_DIR/seed.txt"
echo
wait "$server"
