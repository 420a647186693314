#!/usr/bin/env bash
# The restore drill, on a throwaway cluster of this machine (the main cluster is never touched):
# create a cluster archiving into a throwaway pgBackRest repository, write rows, take a full backup
# (backup.sh), write more, note the time, write more, restore to the noted time (restore.sh), and
# check that the rows written before it are there and those after it are not.
# Prints a report and, last, one JSON line: recovery seconds, rows per batch, the rows committed before
# the target that did not come back (data lost), and how close to the target the restored state reaches
# (seconds from its last commit to the target) against the RPO (15 min).
# Writes sales_backup_last_success_timestamp_seconds{stanza="drill"} into TEXTFILE_DIR (default: the
# drill's own directory, removed at the end unless KEEP=1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
RPO_SECONDS="${RPO_SECONDS:-900}"
ROWS="${ROWS:-1000}"

work="$(mktemp -d /tmp/sales-drill.XXXXXX)"
export STANZA=drill PGBACKREST_CONFIG="$work/pgbackrest.conf" PG_CLUSTER="salesdrill_$$"
export TEXTFILE_DIR="${TEXTFILE_DIR:-$work/textfile}"
. "$here/common.sh"
if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$work"; fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

cleanup() {
  pg_dropcluster --stop "$PG_VERSION" "$PG_CLUSTER" 2>/dev/null || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

cat >"$PGBACKREST_CONFIG" <<CONF
[global]
repo1-path=$work/repo
repo1-retention-full=1
lock-path=$work/lock
spool-path=$work/spool
log-path=$work/log
log-level-file=off
log-level-console=warn
start-fast=y
compress-type=lz4

[drill]
pg1-path=/var/lib/postgresql/$PG_VERSION/$PG_CLUSTER
pg1-port=$port
pg1-socket-path=/var/run/postgresql
CONF
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGBACKREST_CONFIG"; fi

pg_createcluster -p "$port" "$PG_VERSION" "$PG_CLUSTER" -- --auth-local=trust --auth-host=trust --no-sync >/dev/null
cat >"/etc/postgresql/$PG_VERSION/$PG_CLUSTER/conf.d/drill.conf" <<CONF
listen_addresses = 'localhost'
shared_buffers = 16MB
wal_level = replica
archive_mode = on
archive_command = 'pgbackrest --config=$PGBACKREST_CONFIG --stanza=drill archive-push %p'
archive_timeout = 60
CONF
pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start

sql() { as_postgres psql -p "$port" -XqAt -v ON_ERROR_STOP=1 -c "$1"; }
write_batch() {
  sql "INSERT INTO drill (batch, at) SELECT '$1', clock_timestamp() FROM generate_series(1, $ROWS)"
}

pgbackrest_ stanza-create
sql "CREATE TABLE drill (id bigserial PRIMARY KEY, batch text NOT NULL, at timestamptz NOT NULL)"
write_batch before_backup
"$here/backup.sh" full
# pgBackRest records a backup's stop time in whole seconds: a target in the same second as the stop finds
# no backup "before" it. A restore target is always later than that in practice.
sleep 2
write_batch after_backup
target="$(sql "SELECT clock_timestamp()")"
sleep 1
write_batch after_target
# Closes and archives the WAL holding the last batch: replay must see a commit past the target to stop there.
pgbackrest_ check

restored="$("$here/restore.sh" "$target")"
seconds="$(printf '%s' "$restored" | awk '{ print $(NF-1) }')"
counts="$(sql "SELECT string_agg(batch || '=' || n, ' ' ORDER BY batch) FROM (SELECT batch, count(*) n FROM drill GROUP BY batch) c")"
gap="$(sql "SELECT round(EXTRACT(EPOCH FROM '$target'::timestamptz - max(at))::numeric, 3) FROM drill")"
lost="$(sql "SELECT $((2 * ROWS)) - count(*) FROM drill WHERE at <= '$target'")"

echo "drill: $restored"
echo "drill: rows after restore: $counts (each batch $ROWS rows; after_target must be absent)"
echo "drill: data lost: ${lost} rows committed before the target; the restored state reaches ${gap} s before the target (RPO ${RPO_SECONDS} s)"
echo "drill: metric: $(grep -v '^#' "$TEXTFILE_DIR/sales_backup_drill.prom")"
python3 - "$seconds" "$counts" "$lost" "$gap" "$RPO_SECONDS" "$target" "$TEXTFILE_DIR/sales_backup_drill.prom" <<'PY'
import json, sys
seconds, counts, lost, gap, rpo, target, metric = sys.argv[1:]
rows = dict(pair.split("=") for pair in counts.split())
print(json.dumps({"recovery_seconds": float(seconds), "rows": {k: int(v) for k, v in rows.items()},
                  "rows_lost": int(lost), "gap_seconds": float(gap), "rpo_seconds": int(rpo), "target": target,
                  "metric": open(metric).read()}))
PY
