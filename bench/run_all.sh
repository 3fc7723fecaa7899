#!/usr/bin/env bash
# Every benchmark of issue 7 in one run, on the data set `manage.py generate_dataset` loads.
#
#   bench/run_all.sh            # uses (and if missing, creates and loads) database portal_bench
#   LOAD=1 bench/run_all.sh     # also times a fresh load of the full data set into portal_load
#   SCALEOUT=1 bench/run_all.sh # also the scale-out run of issue 17 (bench_scaleout.py)
#   GROWTH=1 bench/run_all.sh   # also the HTTP figures at 2 × and 5 × the data set (issue 17)
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
  # A freshly loaded table has no visibility map: counts would read every row, not the index.
  vacuumdb $PG -z -q -d "$BENCH_DB"
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
# Issue 17: the case list (page and API) of a 30,000-case organization. The default data set's
# largest organization has ~3,850 cases, so a database of its own holds one organization with
# 30,000 (generate_dataset --append refuses a second data set in portal_bench).
BIG_DB=${BIG_DB:-portal_bench_30k}
if ! psql $PG -tAc "SELECT 1 FROM pg_database WHERE datname='${BIG_DB}'" postgres | grep -q 1; then
  section "creating ${BIG_DB}: one organization with 30,000 cases"
  createdb $PG "$BIG_DB"
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/${BIG_DB} $PY manage.py migrate --noinput -v0
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/${BIG_DB} $PY manage.py generate_dataset \
    --organizations 1 --engagements 3 --managers 2 --cases 30000 --open-cases 3000 \
    --occurrences 300 --time-entries 1000
  vacuumdb $PG -z -q -d "$BIG_DB"
fi
section "HTTP: case list page and API list of the 30,000-case organization"
DATABASE_URL=postgres://postgres@127.0.0.1:5432/${BIG_DB} $PY bench/bench_http.py \
  --only api_list case_list_page --out "bench/results/http-30k-$(date -u +%Y-%m-%d).md"
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

# Issue 17: how the figures grow: the data set at 2 × and 5 × (each in its own database, loaded
# once: ~13 and ~38 minutes here), the pages and the API at c=1.
if [ "${GROWTH:-0}" = 1 ]; then
  for f in 2 5; do
    db=portal_bench_${f}x
    if ! psql $PG -tAc "SELECT 1 FROM pg_database WHERE datname='${db}'" postgres | grep -q 1; then
      section "creating ${db}: the data set × ${f}"
      createdb $PG "$db"
      DATABASE_URL=postgres://postgres@127.0.0.1:5432/${db} $PY manage.py migrate --noinput -v0
      DATABASE_URL=postgres://postgres@127.0.0.1:5432/${db} $PY manage.py generate_dataset \
        --organizations $((2000 * f)) --engagements $((3000 * f)) --managers $((200 * f)) \
        --cases $((1000000 * f)) --open-cases $((100000 * f)) --occurrences $((300000 * f)) \
        --time-entries $((500000 * f))
      vacuumdb $PG -z -q -d "$db"
    fi
    section "HTTP at ${f} × the data set"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/${db} $PY bench/bench_http.py --duration 10 \
      --concurrency 1 --only api_list api_detail case_list_page dashboard board \
      --out "bench/results/http-growth-${f}x-$(date -u +%Y-%m-%d).md"
  done
fi

# Issue 17: web ×4, three queue workers and beat on one PostgreSQL and Redis, 16 clients; checks
# nothing is lost, doubled or late. It changes data, so it gets a small database of its own.
if [ "${SCALEOUT:-0}" = 1 ]; then
  section "scale-out: 4 web workers, 3 Celery workers, beat, 16 clients (bench_scaleout.py)"
  dropdb $PG --if-exists portal_scaleout
  createdb $PG portal_scaleout
  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_scaleout
  $PY manage.py migrate --noinput -v0
  $PY manage.py generate_dataset --organizations 100 --engagements 150 --managers 20 \
    --cases 30000 --open-cases 3000 --occurrences 10000 --time-entries 20000
  $PY bench/bench_scaleout.py --duration 180
  # The same fleet behind PgBouncer (transaction pooling, 6 server connections for 12 clients).
  if command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ]; then
    $PY bench/bench_scaleout.py --duration 180 --pgbouncer 6 \
      --out "bench/results/scaleout-pgbouncer-$(date -u +%Y-%m-%d).md"
  fi
  dropdb $PG portal_scaleout
fi

section "done"
