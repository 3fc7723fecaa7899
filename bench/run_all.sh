#!/usr/bin/env bash
# Every benchmark of issue 7 in one run, on the data set `manage.py generate_dataset` loads.
#
#   bench/run_all.sh            # uses (and if missing, creates and loads) database portal_bench
#   LOAD=1 bench/run_all.sh     # also times a fresh load of the full data set into portal_load
#
# Output: bench/results/run-<UTC date>.log (everything printed) and the HTTP table in
# bench/results/http-<date>.md. Needs PostgreSQL and Redis on 127.0.0.1 and Debian's wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG="-h 127.0.0.1 -U postgres"
BENCH_DB=${BENCH_DB:-portal_bench}
export DEBUG=0 SECRET_KEY=bench-only-secret-key-not-for-production-0123456789abcdef ALLOWED_HOSTS='*'
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/${BENCH_DB}"
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
mkdir -p bench/results
LOG="bench/results/run-$(date -u +%Y-%m-%d).log"
exec > >(tee "$LOG") 2>&1

section() { printf '\n===== %s  (%s, load average %s)\n' "$1" "$(date -u +%H:%M:%S)" "$(cut -d' ' -f1-3 /proc/loadavg)"; }

section "machine"
echo "$(nproc) cores, $(uname -m), $(python3 --version 2>&1), $(psql $PG -tAc 'SHOW server_version' postgres)"
git log -1 --format='commit %h %s'

if ! psql $PG -tAc "SELECT 1 FROM pg_database WHERE datname='${BENCH_DB}'" postgres | grep -q 1; then
  section "creating ${BENCH_DB}"
  createdb $PG "$BENCH_DB"
  $PY manage.py migrate --noinput -v0
  /usr/bin/time -f 'generate_dataset wall %e s, user %U s' $PY manage.py generate_dataset
fi
$PY manage.py migrate --noinput -v0  # the code's indexes

section "SLA scanner over the data set's 100,000 open items"
$PY bench/bench_sla_scan_dataset.py
section "scheduler over every engagement"
$PY bench/bench_scheduler.py
section "service review report of the busiest engagement"
$PY bench/bench_report.py
section "HTTP: gunicorn on loopback, wrk"
$PY bench/bench_http.py
# The load last: its 3.8 million rows of writes (checkpoints, autovacuum) would disturb the rest.
if [ "${LOAD:-0}" = 1 ]; then
  section "load: generate_dataset into a fresh database (default sizes and seed)"
  dropdb $PG --if-exists portal_load
  createdb $PG portal_load
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_load $PY manage.py migrate --noinput -v0
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_load \
    /usr/bin/time -f 'generate_dataset wall %e s, user %U s' $PY manage.py generate_dataset
  dropdb $PG portal_load
fi

section "done"
