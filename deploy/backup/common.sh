# Shared by backup.sh, restore.sh and drill.sh (sourced). Settings come from the environment:
#   STANZA              pgBackRest stanza (default sales)
#   PGBACKREST_CONFIG   its configuration file (default /etc/pgbackrest.conf)
#   PG_VERSION, PG_CLUSTER   the Debian cluster restored (default: newest version, main)
#   TEXTFILE_DIR        node-exporter's textfile directory (default /var/lib/prometheus/node-exporter)
STANZA="${STANZA:-sales}"
PGBACKREST_CONFIG="${PGBACKREST_CONFIG:-/etc/pgbackrest.conf}"
PG_VERSION="${PG_VERSION:-$(ls /etc/postgresql | sort -n | tail -n1)}"
PG_CLUSTER="${PG_CLUSTER:-main}"
TEXTFILE_DIR="${TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}"

# pgBackRest and psql run as the cluster's owner; root switches to it.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pgbackrest_() {
  as_postgres pgbackrest --config="$PGBACKREST_CONFIG" --stanza="$STANZA" "$@"
}
