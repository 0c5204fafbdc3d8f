# shellcheck shell=bash
# Set-up shared by scripts/dev.sh, scripts/test.sh and .ci/run. Source it; every step is idempotent
# and cheap when nothing changed, so the README's two commands can run it every time.
#
#   ensure_apt_packages PKG...   install missing Debian packages (root, or password-less sudo)
#   setup_python                 .venv + `pip install -r requirements-dev.txt` (skipped when unchanged)
#   setup_node                   `npm ci` for the vendored front-end assets (skipped when unchanged)
#   setup_all                    both of the above
#   ensure_database              create the PostgreSQL database DATABASE_URL names, if missing
#   redis_available              whether the settings found Redis (status 0) or fell back
#   step NAME CMD...             run CMD under a header and print how long it took
#
# Knobs (environment): PYTHON (interpreter used to create .venv, default python3.11 or python3),
# VENV (default .venv).

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-$REPO_ROOT/.venv}"
VPY="$VENV/bin/python"
cd "$REPO_ROOT"

# The pip and npm clients print nothing a developer needs on a quiet, successful run.
export PIP_DISABLE_PIP_VERSION_CHECK=1
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

if [ -t 2 ]; then BOLD=$'\033[1m' RED=$'\033[31m' PLAIN=$'\033[0m'; else BOLD="" RED="" PLAIN=""; fi
log() { printf '%s==> %s%s\n' "$BOLD" "$*" "$PLAIN" >&2; }
die() { printf '%sERROR: %s%s\n' "$RED" "$*" "$PLAIN" >&2; exit 1; }

# step NAME CMD... : a header, the command, and its duration; the command's status is returned.
# The command runs in a subshell with errexit on, so a failure inside a shell function stops it too
# (bash ignores `set -e` inside anything called from `cmd || ...`).
step() {
  local name="$1" start status errexit="${-//[^e]/}"
  shift
  log "$name"
  start=$(date +%s)
  set +e
  (
    set -e
    "$@"
  )
  status=$?
  [ -z "$errexit" ] || set -e
  printf '    (%s: %ss%s)\n' "$name" "$(($(date +%s) - start))" "$([ "$status" = 0 ] || echo ", FAILED with status $status")" >&2
  return "$status"
}

_hash() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }

_as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}

ensure_apt_packages() {
  local pkg missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} = 0 ] && return 0
  log "Installing Debian packages: ${missing[*]}"
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get: install them by hand"
  if ! { _as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    die "could not install ${missing[*]}: run 'sudo apt-get install ${missing[*]}' and try again"
  fi
}

_base_python() {
  local candidate
  for candidate in ${PYTHON:-} python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  die "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)"
}

setup_python() {
  if [ ! -x "$VPY" ]; then
    local base
    base="$(_base_python)"
    log "Creating $VENV with $base"
    if ! "$base" -m venv "$VENV" 2>/dev/null; then
      # Debian's own Python ships venv/ensurepip in a separate package.
      rm -rf "$VENV"
      ensure_apt_packages python3-venv
      "$base" -m venv "$VENV"
    fi
  fi
  # The stamp lives inside the venv, so a new venv always installs.
  local stamp="$VENV/.requirements.sha256" want
  want="$(_hash requirements.txt requirements-dev.txt)-$("$VPY" -V 2>&1)"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  log "Installing Python packages (requirements-dev.txt)"
  "$VPY" -m pip install -qq -r requirements-dev.txt && echo "$want" >"$stamp"
}

setup_node() {
  if [ ! -f package.json ]; then
    log "No package.json: skipping front-end packages"
    return 0
  fi
  command -v npm >/dev/null || die "npm is needed for the front-end assets (apt-get install npm)"
  local stamp="node_modules/.contacts-stamp"
  if [ -d node_modules ] && [ "$(cat "$stamp" 2>/dev/null)" = "$(_node_stamp)" ]; then
    return 0
  fi
  log "Installing front-end packages (npm)"
  if [ -f package-lock.json ]; then
    npm ci --loglevel=error
  else
    npm install --loglevel=error
  fi && _node_stamp >"$stamp"
}

_node_stamp() { echo "$(_hash package.json package-lock.json)-$(node --version 2>&1)"; }

setup_all() {
  setup_python
  setup_node
}

# Whether the settings found Redis (the settings decide, from the same variables the app reads).
redis_available() {
  "$VPY" - <<'PY' 2>/dev/null
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactsite.settings")
from django.conf import settings
sys.exit(0 if settings.REDIS_AVAILABLE else 1)
PY
}

# Create the PostgreSQL database named by DATABASE_URL if it is missing (SQLite and MongoDB create
# theirs on first use). The settings parse the URL, as they do for the app.
ensure_database() {
  "$VPY" - <<'PY'
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactsite.settings")
import logging

logging.disable(logging.WARNING)  # the settings' Redis warning belongs to the commands that follow
from django.conf import settings

db = settings.DATABASES["default"]
if db["ENGINE"] == "django.db.backends.postgresql":
    import psycopg
    from psycopg import sql

    params = {"dbname": "postgres", "user": db.get("USER"), "password": db.get("PASSWORD"),
              "host": db.get("HOST"), "port": db.get("PORT")}
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
            print(f"Created PostgreSQL database {db['NAME']!r}")
PY
}
