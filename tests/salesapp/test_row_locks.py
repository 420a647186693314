"""Row locks go through the kernel's `rows_lock`: own rows only, key order, no joined rows read."""

import ast
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from opportunities.models import Opportunity, Stage
from salesapp.locks import rows_lock
from tests.opportunities.factories import OpportunityFactory

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["salesapp", "leads", "opportunities", "territories", "quotas", "intelligence", "activities"]


def _sources():
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts and path != ROOT / "salesapp" / "locks.py":
                yield path


def test_no_module_locks_rows_but_through_rows_lock():
    found = []
    for path in _sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("select_for_update", "select_for_no_key_update"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and " FOR UPDATE" in node.value.upper():
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} (SQL)")
    assert found == [], "lock rows with salesapp.locks.rows_lock (own rows only, key order)"


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="row locks exist on PostgreSQL only (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_locking_a_deal_leaves_its_stage_free_for_everyone_else():
    # Given a deal locked by a service that also wanted its stage
    deal = OpportunityFactory(stage="proposal")
    with transaction.atomic():
        locked = rows_lock(Opportunity.objects.select_related("stage").filter(pk=deal.pk)).get()
        assert locked.stage.key == "proposal"
        outcome = {}

        def other_session():
            # When another session wants to change that stage row (an admin editing it)
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(f"SELECT key FROM {Stage._meta.db_table} WHERE key = 'proposal' FOR UPDATE NOWAIT")
                    outcome["stage"] = cursor.fetchone()[0]
            finally:
                connection.close()

        worker = threading.Thread(target=other_session)
        worker.start()
        worker.join(timeout=30)
        # Then it gets it at once: the deal's lock did not take the shared stage row
        assert outcome == {"stage": "proposal"}
        # And the lock statement names only the deal's table
        sql = str(rows_lock(Opportunity.objects.select_related("stage").filter(pk=deal.pk)).query)
        assert "JOIN" not in sql
