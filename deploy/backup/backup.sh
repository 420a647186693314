#!/usr/bin/env bash
# A backup of the sales database: `backup.sh full` (daily) or `backup.sh diff|incr`.
# On success, writes sales_backup_last_success_timestamp_seconds for node-exporter's textfile collector.
set -euo pipefail
. "$(dirname "$0")/common.sh"

type="${1:-full}"
pgbackrest_ --type="$type" backup
pgbackrest_ expire

mkdir -p "$TEXTFILE_DIR"
tmp="$(mktemp "$TEXTFILE_DIR/.sales_backup.XXXXXX")"
cat >"$tmp" <<METRIC
# HELP sales_backup_last_success_timestamp_seconds When the last backup of the stanza succeeded (Unix time).
# TYPE sales_backup_last_success_timestamp_seconds gauge
sales_backup_last_success_timestamp_seconds{stanza="$STANZA",type="$type"} $(date +%s)
METRIC
chmod 644 "$tmp"
# A rename is atomic: node-exporter never reads half a file.
mv "$tmp" "$TEXTFILE_DIR/sales_backup_${STANZA}.prom"
