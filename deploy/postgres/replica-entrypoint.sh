#!/bin/sh
# A streaming replica: on first start, copy the primary with pg_basebackup (-R writes standby.signal and the
# connection to follow), then run as a hot standby that answers reads. Starts as root (the official image's
# way) to own the data directory, then runs as postgres.
set -eu
mkdir -p "$PGDATA" && chown postgres "$PGDATA" && chmod 0700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h "$PRIMARY_HOST" -p 5432; do sleep 1; done
  PGPASSWORD="$REPLICATION_PASSWORD" gosu postgres pg_basebackup -h "$PRIMARY_HOST" -p 5432 -U replicator \
    -D "$PGDATA" -X stream -R --checkpoint=fast
fi
exec gosu postgres postgres -c hot_standby=on -c max_connections=500
