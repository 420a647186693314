"""Throwaway PostgreSQL clusters on this machine (Debian's postgresql-common), for the replica tests.

The main cluster at 127.0.0.1:5432 is never touched: its pg_hba.conf admits no replication connection
and changing that needs a reload of it. So the tests make a primary of their own and stream a replica
from it with `pg_basebackup -R`. Clusters are named `salesci_<pid>_<role>`; a run's leftovers (a killed
test process) are dropped by the next run, never another live process's clusters.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

PREFIX = "salesci_"


def _run(*args: str, input: str | None = None, as_postgres: bool = False) -> str:
    """Run a PostgreSQL tool; what writes into a data directory runs as the postgres user when we are root."""
    command = ["runuser", "-u", "postgres", "--", *args] if as_postgres and os.geteuid() == 0 else list(args)
    done = subprocess.run(command, check=False, input=input, capture_output=True, text=True, timeout=120)  # nosec B603
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")
    return done.stdout


def _write_as_postgres(path: Path, text: str) -> None:
    path.write_text(text)
    shutil.chown(path, "postgres", "postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def major_version() -> str:
    return sorted(os.listdir("/etc/postgresql"), key=int)[-1]


@dataclass
class Cluster:
    version: str
    name: str
    port: int

    @property
    def data_dir(self) -> Path:
        return Path(f"/var/lib/postgresql/{self.version}/{self.name}")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        return _run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                    "-v", "ON_ERROR_STOP=1", "-qAtc", sql).strip()

    def start(self) -> None:
        _run("pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, "start")

    def drop(self) -> None:
        _run("pg_dropcluster", "--stop", self.version, self.name)


def _create(name: str, *settings: str) -> Cluster:
    """A cluster named `name` on a free port; an existing data directory is taken as it is (no initdb)."""
    version, port = major_version(), free_port()
    options = [part for setting in ("listen_addresses=localhost", *settings) for part in ("-o", setting)]
    _run("pg_createcluster", "-p", str(port), *options, version, name, "--",
         "--auth-local=trust", "--auth-host=trust", "--no-sync")
    return Cluster(version, name, port)


def drop_leftovers(*, include_own: bool = False) -> None:
    """Drop the clusters of earlier test processes that are gone (killed before their clean-up), and
    with `include_own` this process's (a set-up that failed half-way)."""
    version = major_version()
    for name in os.listdir(f"/etc/postgresql/{version}"):
        match = re.fullmatch(rf"{PREFIX}(\d+)_\w+", name)
        if match and (not Path(f"/proc/{match.group(1)}").exists() or include_own and int(match.group(1)) == os.getpid()):
            _run("pg_dropcluster", "--stop", version, name)


# A test cluster holds nothing worth a crash-safe write: no fsync, small memory.
_FAST = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "shared_buffers=16MB")


def primary_with_replica() -> tuple[Cluster, Cluster]:
    """A new primary, and a streaming replica of it made by `pg_basebackup -R`, both running."""
    drop_leftovers()
    stem = f"{PREFIX}{os.getpid()}"
    primary = _create(f"{stem}_primary", *_FAST, "wal_level=replica", "max_wal_senders=4")
    try:
        primary.start()
        # pg_createcluster adopts the data directory pg_basebackup wrote: no initdb for the replica.
        replica_dir = Path(f"/var/lib/postgresql/{primary.version}/{stem}_replica")
        replica_dir.mkdir(mode=0o700)
        shutil.chown(replica_dir, "postgres", "postgres")
        _run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-D",
             str(replica_dir), "-R", "-X", "stream", "-c", "fast", as_postgres=True)
        # pg_createcluster moves an adopted cluster's configuration files to /etc/postgresql.
        _write_as_postgres(replica_dir / "postgresql.conf", "")
        _write_as_postgres(replica_dir / "pg_ident.conf", "")
        _write_as_postgres(replica_dir / "pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n"
                           "host all all ::1/128 trust\n")
        replica = _create(replica_dir.name, *_FAST, "hot_standby=on")
        replica.start()
    except BaseException:
        drop_leftovers(include_own=True)
        raise
    return primary, replica


def copy_database(*, source_url_args: list[str], target: Cluster, database: str) -> None:
    """Create `database` on `target` as a copy of the source database (schema and committed rows)."""
    target.psql(f'CREATE DATABASE "{database}"')
    dump = _run("pg_dump", "--no-owner", "--no-privileges", *source_url_args)
    _run("psql", "-h", "127.0.0.1", "-p", str(target.port), "-U", "postgres", "-d", database, "-q",
         "-v", "ON_ERROR_STOP=1", input=dump)
