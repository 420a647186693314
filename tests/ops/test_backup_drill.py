"""The restore drill (deploy/backup/drill.sh) in CI: pgBackRest backup and point-in-time restore of a
throwaway cluster of this machine."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

DRILL = Path(__file__).resolve().parents[2] / "deploy" / "backup" / "drill.sh"


def test_restore_to_a_point_between_two_writes_brings_back_the_rows_before_it_only(tmp_path):
    if not settings.IS_POSTGRES:
        pytest.skip("embedded pass (SQLite): the restore drill runs in the PostgreSQL pass of .ci/run, "
                    "which has PostgreSQL's cluster tools and pgbackrest")
    done = subprocess.run(["bash", str(DRILL)], check=False, capture_output=True, text=True, timeout=300,  # nosec B603
                          env={**os.environ, "ROWS": "500", "TEXTFILE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    print(done.stdout)  # the drill's report: recovery time and data lost, in the CI log with -s or on failure
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert report["rows"] == {"before_backup": 500, "after_backup": 500}  # after_target: none
    assert report["rows_lost"] == 0
    assert report["gap_seconds"] < report["rpo_seconds"]
    assert report["recovery_seconds"] > 0
    metric = (tmp_path / "sales_backup_drill.prom").read_text()
    assert 'sales_backup_last_success_timestamp_seconds{stanza="drill",type="full"}' in metric
