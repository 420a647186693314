"""Fault injection for tests: a TCP proxy of the test's own between the app and a service.

The shared PostgreSQL, Redis and RabbitMQ are never stopped or reconfigured: a test points the app
at a `TcpProxy` in front of the real service and then
- `stop()` cuts it: every connection is closed and new ones are refused, as when a service dies;
- `hang()` keeps every connection open and accepts new ones, but forwards nothing either way:
  the peer acknowledges every packet and never answers, as a hung server or a broken proxy does;
- `start()` brings it back (after a hang the hung connections are closed first: what they carried
  is lost, as it would be).
"""

import os
import socket
import threading
from urllib.parse import urlparse

from salesapp.celery import app as celery_app


class TcpProxy:
    """Forwards a local port to the host and port of the service at `url` until cut or hung."""

    def __init__(self, url: str, default_port: int):
        self.real = urlparse(url)
        self.target = (self.real.hostname, self.real.port or default_port)
        self.server = self._listener(0)
        self.port = self.server.getsockname()[1]
        self.running = False
        self.hung = False
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        """The service's URL, reaching it through this proxy."""
        credentials = self.real.netloc.rpartition("@")[0]
        return self.real._replace(netloc=f"{credentials}@127.0.0.1:{self.port}".lstrip("@")).geturl()

    @staticmethod
    def _listener(port: int) -> socket.socket:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        return server

    def start(self) -> "TcpProxy":
        """Forward (again). After a hang, the connections it held are closed first."""
        if self.hung:
            self.hung = False
            self._close_connections()
        if not self.running:
            if self.server.fileno() == -1:
                self.server = self._listener(self.port)
            self.server.listen(64)
            self.running = True
            threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        """Cut: close every connection and refuse new ones."""
        self.running = False
        self.hung = False
        try:
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.server.close()
        self._close_connections()

    def hang(self) -> None:
        """Accept and hold connections, forward nothing: the service answers nothing."""
        self.hung = True

    def _close_connections(self) -> None:
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            _close(s)

    def _accept(self) -> None:
        server = self.server
        while self.running:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(client)
            if self.hung:
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                if not self.hung:
                    dst.sendall(data)
                # hung: what arrives is read (so the sender sees it taken) and dropped
        except OSError:
            pass
        finally:
            _close(src)
            _close(dst)

    @staticmethod
    def _swallow(client: socket.socket) -> None:
        try:
            while client.recv(65536):
                pass
        except OSError:
            pass
        finally:
            _close(client)


def _close(s: socket.socket) -> None:
    # shutdown() first: it sends the FIN and wakes a thread blocked in recv() on the socket, which
    # close() alone does not (the blocked call keeps the socket open, so the peer never learns).
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()


def closed_port() -> int:
    """A localhost port nothing listens on: a service that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_cache(url: str, *, timeout: float) -> dict:
    """CACHES for django-redis at `url`, giving up on a connection or a command after `timeout` seconds."""
    return {"default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "sales",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "SOCKET_CONNECT_TIMEOUT": timeout,
                    "SOCKET_TIMEOUT": timeout},
    }}


def use_broker(url: str) -> None:
    """Point Celery's publishers at `url` (the environment variable wins over its configuration)."""
    os.environ["CELERY_BROKER_URL"] = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
