"""Start and stop an nx-27017 server (MongoDB wire protocol over SQLite) for tests and benchmarks.

nx-27017 is a test stand-in only; production wants a real MongoDB.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command() -> list[str]:
    script = Path(sys.executable).parent / "nx-27017"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from nx_27017.nx_27017 import main; main()"]


def start(*, db: str = "memory", timeout: float = 15.0) -> tuple[subprocess.Popen | None, str, str]:
    """Answers (process, uri, reason); process is None (and reason says why) when it cannot start."""
    try:
        import nx_27017  # noqa: F401
        import pymongo
    except ImportError as exc:
        return None, "", f"nx-27017 is not installed: {exc}"
    workdir = tempfile.mkdtemp(prefix="nx27017-")
    port = free_port()
    # Our own pid and log files: the defaults in /tmp are shared by every nx-27017 on the machine,
    # and a second server refuses to start while the first one's pid file names a live process.
    cmd = [*_command(), "--db", db, "--host", "127.0.0.1", "-p", str(port),
           "--pid-file", os.path.join(workdir, "nx.pid"), "--log-file", os.path.join(workdir, "nx.log")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir)
    uri = f"mongodb://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=300)
            client.admin.command("ping")
            client.close()
            return proc, uri, ""
        except Exception:
            time.sleep(0.1)
    stop(proc)
    return None, "", "nx-27017 did not start"


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
