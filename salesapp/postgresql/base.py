"""Django's PostgreSQL backend with a client-side bound on every wait for the server.

PostgreSQL's own `statement_timeout` (DB_STATEMENT_TIMEOUT) ends a slow statement on the
server, and libpq's `connect_timeout` (DB_CONNECT_TIMEOUT) a connection attempt that gets no
answer. Neither helps when an established connection stops answering: the server, or a proxy
or load balancer in between, accepts what we send and sends nothing back. The server's timeout
cannot reach us, TCP keepalives and `tcp_user_timeout` see a peer that acknowledges every packet,
and psycopg would wait for ever. So every wait of a connection (statement, fetch, commit,
rollback, health check) is bounded here by DB_ANSWER_TIMEOUT, a little longer than the
statement timeout so that the server normally ends a slow statement first. When it expires the
connection is closed (its protocol state is unknown; it is never reused) and the caller gets
an OperationalError, which Django raises as django.db.OperationalError and answers as a 500.

What the bound cannot tell is whether a COMMIT that went unanswered was applied: the request
fails either way, and the transactional outbox keeps events and data together.
"""

import psycopg
from django.db import connections
from django.db.backends.postgresql import base
from psycopg import errors


class BoundedConnection(psycopg.Connection):
    """A psycopg connection that waits at most `answer_timeout` seconds for the server, then closes."""

    answer_timeout: float | None = None

    def wait(self, gen, *args, timeout=None, **kwargs):
        # A caller's own timeout (psycopg's notifies(), cancel) is its business; otherwise the bound.
        if timeout is not None or not self.answer_timeout:
            return super().wait(gen, *args, timeout=timeout, **kwargs)
        try:
            return super().wait(gen, *args, timeout=self.answer_timeout, **kwargs)
        except errors._WaitTimeout:  # psycopg's own wait deadline (3.3): the server sent nothing in time
            self.close()
            raise errors.OperationalError(
                f"the database sent no answer within {self.answer_timeout:g} s (DB_ANSWER_TIMEOUT); "
                "connection closed") from None


class _Psycopg:
    """The psycopg module as Django's backend sees it, except that it connects with BoundedConnection."""

    def __getattr__(self, name):
        return getattr(psycopg, name)

    @staticmethod
    def connect(*args, **kwargs) -> BoundedConnection:
        return BoundedConnection.connect(*args, **kwargs)


class DatabaseWrapper(base.DatabaseWrapper):
    """PostgreSQL whose connections bound their waits by OPTIONS["answer_timeout"] (seconds; None: no bound)."""

    Database = _Psycopg()

    def get_connection_params(self):
        params = super().get_connection_params()
        params.pop("answer_timeout", None)  # ours, not libpq's
        return params

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        connection.answer_timeout = self.settings_dict["OPTIONS"].get("answer_timeout")
        return connection


def migration_limits_off(using: str = "default", **kwargs) -> None:
    """Before migrations (pre_migrate): no statement timeout and no answer bound, since a migration
    may build an index over millions of rows."""
    _migration_limits(connections[using], statement_timeout="SET statement_timeout = 0", answer_timeout=None)


def migration_limits_on(using: str = "default", **kwargs) -> None:
    """After migrations (post_migrate): the configured limits again, on the same connection."""
    connection = connections[using]
    _migration_limits(connection, statement_timeout="RESET statement_timeout",
                      answer_timeout=connection.settings_dict["OPTIONS"].get("answer_timeout"))


def _migration_limits(connection, *, statement_timeout: str, answer_timeout) -> None:
    if not isinstance(connection, DatabaseWrapper):
        return  # SQLite: neither limit exists there
    connection.ensure_connection()
    connection.connection.answer_timeout = answer_timeout
    with connection.cursor() as cursor:
        cursor.execute(statement_timeout)
