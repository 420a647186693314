"""Fault injection for tests: a TCP proxy the test owns, between the app and a service it must not touch.

`cut()` drops every connection and refuses new ones (a crashed or unreachable service); `hang()` keeps
accepting and holding connections but forwards nothing (a service that accepts and never answers);
`restore()` forwards again. The service itself is never stopped or reconfigured.
"""

import socket
import threading


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `target`; cut, hang and restore on demand."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.mode = "down"
        self.server = None
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()

    # --- control ---------------------------------------------------------------------------

    def start(self) -> "TcpProxy":
        self.restore()
        return self

    def restore(self) -> None:
        self._drop_connections()  # a hang's held connections end; clients reconnect to a working path
        self.mode = "forward"
        self._listen()

    def cut(self) -> None:
        self.mode = "down"
        if self.server is not None:
            try:
                self.server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            except OSError:
                pass
            self.server.close()
            self.server = None
        self._drop_connections()

    def hang(self) -> None:
        """Existing and new connections stay open, and nothing passes either way."""
        self.mode = "hang"
        self._listen()

    def stop(self) -> None:
        self.cut()

    # --- plumbing --------------------------------------------------------------------------

    def _listen(self) -> None:
        if self.server is not None:
            return
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self.server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(client)
            if self.mode != "forward":
                continue  # held open, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.conns.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                while self.mode == "hang":  # swallow: nothing passes while hung
                    threading.Event().wait(0.05)
                if self.mode == "down":
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def _drop_connections(self) -> None:
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
