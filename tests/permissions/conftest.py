"""One fixture world for the whole permission matrix, built once and rolled back at the end.

Each matrix cell runs in its own savepoint (pytest-django's `db`), so a DELETE in one cell
never takes a record away from the next.
"""

import pytest
from django.db import transaction

from tests.permissions.world import build_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
