"""Fixtures for activities: both store backends, and links to real leads, deals and accounts.

`backend` runs a test on the SQL store and on the MongoDB store over a real
pymongo connection to an nx-27017 server (a MongoDB wire-protocol server
backed by SQLite, installed from PyPI) that this file starts on a free port
for the session and stops afterwards. Where it cannot start, the MongoDB half
is skipped with the reason.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from activities import links
from activities.store import forget_stores, get_store
from salesapp.access import RecordRule, _rules, register_model


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Demo users are made with real passwords; a fast hasher keeps these tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _nx_command() -> list[str]:
    script = Path(sys.executable).parent / "nx-27017"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from nx_27017.nx_27017 import main; main()"]


@pytest.fixture(scope="session")
def nx_server():
    """An nx-27017 server on a free port for the whole session: yields its URI (or None)."""
    try:
        import nx_27017  # noqa: F401
        import pymongo
    except ImportError as exc:
        yield None, f"nx-27017 is not installed: {exc}"
        return
    workdir = tempfile.mkdtemp(prefix="nx27017-")
    port = _free_port()
    # Our own pid and log files: the defaults in /tmp are shared by every nx-27017 on the box.
    cmd = [*_nx_command(), "--db", "memory", "--host", "127.0.0.1", "-p", str(port),
           "--pid-file", os.path.join(workdir, "nx.pid"), "--log-file", os.path.join(workdir, "nx.log")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir)
    uri = f"mongodb://127.0.0.1:{port}/"
    deadline = time.monotonic() + 15
    ready = False
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=300)
            client.admin.command("ping")
            client.close()
            ready = True
            break
        except Exception:
            time.sleep(0.1)
    if not ready:
        proc.kill()
        yield None, "nx-27017 did not start"
        return
    yield uri, ""
    forget_stores()
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(params=["sql", pytest.param("mongodb", marks=pytest.mark.mongo)])
def backend(request, settings, nx_server):
    """The activity store under test: SQL, then MongoDB over a real connection."""
    forget_stores()
    if request.param == "sql":
        settings.MONGODB_URI = ""
        yield get_store()
        forget_stores()
        return
    uri, reason = nx_server
    if not uri:
        pytest.skip(reason)
    settings.MONGODB_URI = uri
    settings.MONGODB_DATABASE = f"test_activities_{uuid.uuid4().hex[:8]}"
    store = get_store()
    yield store
    store.client.drop_database(settings.MONGODB_DATABASE)
    forget_stores()


@pytest.fixture
def sql_store(settings):
    forget_stores()
    settings.MONGODB_URI = ""
    yield get_store()
    forget_stores()


@pytest.fixture
def linked(db):
    """Leads, opportunities, accounts and contacts registered as link kinds (as their apps do in ready())."""
    from leads.models import Lead
    from opportunities.models import Account, Contact, Opportunity

    saved_links = {k: links.link_for(k) for k in links.KINDS}
    saved_rules = {m: _rules.get(m) for m in (Lead, Account, Contact, Opportunity)}
    for model, rule in (
        (Lead, RecordRule(owner_field="assigned_to")),
        (Account, RecordRule(owner_field="owner")),
        (Opportunity, RecordRule(owner_field="owner")),
        (Contact, RecordRule(owner_field="owner", territory_field=None)),
    ):
        if model not in _rules:
            register_model(model, rule)
    links.register_link("lead", Lead)
    links.register_link("opportunity", Opportunity, parents=lambda o: {"account_id": o.account_id})
    links.register_link("account", Account)
    links.register_link("contact", Contact, parents=lambda c: {"account_id": c.account_id})
    yield
    for kind, link in saved_links.items():
        if link is None:
            links.unregister_link(kind)
        else:
            links.register_link(kind, link.model, parents=link.parents)
    for model, rule in saved_rules.items():
        if rule is None:
            _rules.pop(model, None)
        else:
            _rules[model] = rule
