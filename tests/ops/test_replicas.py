"""The read replica, for real: a primary and a streaming replica made on this machine (tests/ops/pgclusters.py).

The app runs in a process of its own against them (tests/ops/replica_probe.py); replay on the replica is
paused half-way, so what a list shows tells which database served it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.ops.conftest import DATABASE

ROOT = Path(__file__).resolve().parents[2]


# The mark makes pytest-django create the test database the replica pair is copied from.
@pytest.mark.django_db
def test_lists_read_the_replica_and_reads_after_a_write_the_primary(replica_pair, tmp_path):
    primary, replica = replica_pair
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path)), "SALES_DATA_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "salesapp.settings", "DATABASE_URL": primary.url(DATABASE),
           "DATABASE_REPLICA_URL": replica.url(DATABASE), "REPLICA_MAX_LAG_SECONDS": "3",
           "REPLICA_CHECK_SECONDS": "0", "REPLICA_PIN_SECONDS": "5"}
    done = subprocess.run([sys.executable, "-m", "tests.ops.replica_probe"], check=False, cwd=ROOT, env=env,  # nosec B603
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    # Given a deal written while the replica's replay is paused, a list read is served by the replica:
    assert seen["list"]["names"] == ["Written before the pause"]
    assert seen["list"]["selects"]["default"] == 0 and seen["list"]["selects"]["replica"] > 0
    assert not seen["list"]["sets_pin"]

    # A client that saved a deal reads right after from the primary: its own deal and the other are there.
    assert seen["create_status"] == 201 and seen["create_sets_pin"]
    assert seen["list_after_write"]["names"] == ["Saved by the client", "Written after the pause",
                                                 "Written before the pause"]
    assert seen["list_after_write"]["selects"]["replica"] == 0

    # A replica lagging past the limit is out of rotation: everyone reads the primary.
    assert seen["lag_when_paused"] > 3
    assert len(seen["list_when_lagging"]["names"]) == 3
    assert seen["list_when_lagging"]["selects"]["replica"] == 0

    # Caught up, it is back in rotation.
    assert seen["lag_after_resume"] == 0
    assert len(seen["list_after_resume"]["names"]) == 3
    assert seen["list_after_resume"]["selects"]["default"] == 0
    assert settings.DATABASES["default"]["NAME"] != DATABASE  # the suite's own database was never the one probed
