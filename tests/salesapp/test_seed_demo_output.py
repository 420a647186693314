"""A first `make run`: loading the demo prints its steps and the demo users, not a log line per record."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "CELERY_BROKER_URL", "ELASTICSEARCH_URL",
            "MONGODB_URI", "DJANGO_SETTINGS_MODULE", "LOG_LEVEL", "CELERY_LOG_LEVEL")


@pytest.fixture
def fresh_install(tmp_path):
    """The embedded default on an empty data directory, migrated, as `make run` finds it before the demo loads."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICES}
    env["SALES_DATA_DIR"] = str(tmp_path)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    return env


def test_loading_the_demo_prints_under_a_hundred_lines_and_no_broker_warning(fresh_install):
    # When the demo is loaded the way `make run` loads it
    done = subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=fresh_install,
                          capture_output=True, text=True, check=True)
    lines = (done.stdout + done.stderr).splitlines()
    # Then its whole log (standard output and error) is a short list of steps and the demo users
    assert len(lines) < 100, "\n".join(lines[:120])
    assert "  loading leads ..." in lines
    assert any("rep1@demo.example" in line for line in lines)
    # And nothing warns about a broker, since none is configured
    assert not [line for line in lines if "kombu" in line or "broker" in line.lower()]
    # And loading again says it is already there
    again = subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=fresh_install,
                           capture_output=True, text=True, check=True)
    assert again.stdout.startswith("Demo data already loaded.")
