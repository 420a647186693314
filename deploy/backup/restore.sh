#!/usr/bin/env bash
# Restore the sales cluster to a point in time: restore.sh '2026-12-02 06:00:00+00'
# (or `restore.sh latest` for the end of the archived WAL). Stops the cluster, restores the newest
# backup before the target over its data directory (--delta: only changed files are copied), replays
# WAL up to the target, promotes and starts it. Prints the seconds it took.
# The application must be stopped first (web, workers, beat); afterwards rebuild the search index
# (`manage.py search_rebuild`) and let the outbox sweeper deliver what is pending.
set -euo pipefail
. "$(dirname "$0")/common.sh"

target="${1:?usage: restore.sh '<timestamp with time zone>' | latest}"
started="$(date +%s.%N)"
# status: 0 running, 3 stopped; anything else is an error that stops the restore.
status=0; pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" status >/dev/null || status=$?
if [ "$status" = 0 ]; then
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" stop --mode=fast
elif [ "$status" != 3 ]; then
  echo "cannot tell whether $PG_VERSION/$PG_CLUSTER runs (pg_ctlcluster status: $status)" >&2; exit 1
fi
if [ "$target" = latest ]; then
  pgbackrest_ --delta restore
else
  pgbackrest_ --delta --type=time --target="$target" --target-action=promote restore
fi
pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start
port="$(pg_conftool -s "$PG_VERSION" "$PG_CLUSTER" show port)"
# Ready when recovery is over and the cluster accepts writes.
until [ "$(as_postgres psql -p "$port" -XAtc 'SELECT NOT pg_is_in_recovery()' 2>/dev/null)" = t ]; do sleep 0.2; done
awk -v a="$started" -v b="$(date +%s.%N)" -v t="$target" 'BEGIN { printf "restored to %s in %.1f s\n", t, b - a }'
