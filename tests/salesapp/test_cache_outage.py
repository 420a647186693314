"""The cache is only a cache: with Redis down the API counts, authorises and answers from what it has.

Redis here is configured at an address where nothing listens, so these run on every machine; the
cut, hang and recovery of a real Redis are in test_faults.
"""

import ast
import logging

import pytest

from salesapp import cache
from salesapp.models import User
from salesapp.roles import perm
from salesapp.services import user_update
from tests.salesapp.test_row_locks import PACKAGES, ROOT

pytestmark = pytest.mark.django_db

# Where the cache itself is asked: the helper, and the health check (which must see an outage).
CACHE_CLIENTS = {"salesapp/cache.py", "salesapp/health.py"}


def test_no_module_reads_the_cache_but_through_the_kernel_helper():
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = str(path.relative_to(ROOT))
            if name in CACHE_CLIENTS or "settings" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("django.core.cache"):
                    found.append(f"{name}:{node.lineno}")
    assert found == [], "use `from salesapp import cache`: an outage is then a miss, not an error"


def test_with_redis_down_the_api_answers_and_still_throttles_per_process(redis_down, limit_of_three, api, rep,
                                                                         caplog):
    client = api.as_user(rep)
    statuses = [client.get("/api/v1/users/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # The outage (met first while the rep was being created) is logged once, not per request
    records = caplog.get_records("setup") + caplog.get_records("call")
    assert len([r for r in records if r.name == "salesapp.cache" and r.levelno == logging.ERROR]) == 1
    assert cache.outage() is not None


def test_with_redis_down_permissions_come_from_the_database_and_a_role_change_applies(redis_down, rep):
    def fresh():
        return User.objects.get(pk=rep.pk)  # a new request loads a new user object

    assert fresh().has_perm(perm("opportunity:write"))
    assert not fresh().has_perm(perm("territory:assign"))
    user_update(actor=None, user=fresh(), role="sales_manager")
    assert fresh().has_perm(perm("territory:assign"))


def test_the_kernel_helper_reads_through_and_counts_here_while_redis_is_down(redis_down):
    cache.set("k", "v", 60)
    assert cache.get("k", "fallback") == "fallback"
    assert [cache.count("c", 60) for _ in range(3)] == [1, 2, 3]
    first, second = cache.version("v"), cache.version("v")
    assert first != second  # nothing cached under an outage's version is ever read back
