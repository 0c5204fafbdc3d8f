#!/usr/bin/env bash
# TEST: set up everything (as scripts/dev.sh does), then lint, Django's checks and the whole test suite,
# slow and browser tests included. Arguments go to pytest: ./scripts/test.sh -x tests/test_infra.py
#
# DATABASE_URL picks the engine (SQLite by default; e.g. postgres://postgres@127.0.0.1:5432/contacts,
# where pytest-django creates and drops test_contacts). Add --create-db to rebuild a stale test database.
# shellcheck source=lib/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

# Django's checks and the helper scripts load the plain settings as local use (they default to production).
export DEBUG="${DEBUG:-1}"

started=$(date +%s)
failed=()
# check NAME CMD... : a step whose failure is reported at the end; the following steps still run,
# so one run shows lint, migration and test failures together.
check() {
  local status
  set +e # not `step ... || ...`: bash would then ignore errexit inside the step's shell functions
  step "$@"
  status=$?
  set -e
  [ "$status" = 0 ] || failed+=("$1")
}

# Without these nothing can run: stop at the first failure.
# Chromium drives the browser tests; docker-compose validates docker-compose.yml (tests/test_infra.py).
step "Debian packages (chromium, docker-compose)" ensure_apt_packages chromium docker-compose
step "Set-up (venv, pip, npm)" setup_all

lint() {
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
}
check "Lint (ruff check, ruff format --check)" lint

# On DATABASE_URL's engine (tests/test_engine_migrations.py covers MongoDB's offline migrations).
django_checks() {
  ensure_database
  "$VPY" manage.py check
  "$VPY" manage.py makemigrations --check --dry-run
}
check "Django checks (check, makemigrations --check)" django_checks

# The production configuration the README documents must pass Django's deployment checklist with no
# warning. The key is made here and used once; nothing connects to Redis or the database.
deploy_check() {
  env DEBUG=0 CONTACTS_TESTING=0 ALLOWED_HOSTS=contacts.example.com BEHIND_TLS_PROXY=1 \
    SECRET_KEY="$("$VPY" -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    SECURE_HSTS_SECONDS=31536000 SECURE_HSTS_INCLUDE_SUBDOMAINS=1 SECURE_HSTS_PRELOAD=1 \
    "$VPY" manage.py check --deploy --fail-level WARNING
}
check "Deployment checks (check --deploy, production settings)" deploy_check

check "pytest $*" "$VENV/bin/pytest" "$@"

if [ ${#failed[@]} = 0 ]; then
  log "test.sh passed in $(($(date +%s) - started))s"
else
  log "test.sh FAILED in $(($(date +%s) - started))s: ${failed[*]}"
  exit 1
fi
