"""No shared secrets: every install has keys of its own, JWTs their own key, rotation keeps tokens alive."""

import datetime as dt
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from salesapp.settings.keys import JWT_PREVIOUS_KEYS_FILE
from tests.salesapp.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
# The constant the repository once shipped as the embedded default's SECRET_KEY, which signed the JWTs.
REPOSITORY_KEY = "dev-insecure-key-only-for-the-embedded-default-mode-0123456789"

# Run in a fresh process of an install (its own SALES_DATA_DIR): `mint` prints an access token for
# user 1; then for each token given, whether this install accepts it. None of it needs a database.
SCRIPT = """
import sys
from rest_framework_simplejwt.exceptions import TokenError
from salesapp.models import User
from salesapp.tokens import AccessToken
if sys.argv[1] == "mint":
    print(AccessToken.for_user(User(pk=1)))
for token in sys.argv[2:]:
    try:
        AccessToken(token)
        print("accepted")
    except TokenError:
        print("refused")
"""


def _run(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run Python in a fresh process of the install kept in `data_dir` (the embedded default, no key given)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JWT_"))}
    environ.update(SALES_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="salesapp.settings", **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True,
                          timeout=120, check=False)


def _install(data_dir: Path, *args: str) -> list[str]:
    """SCRIPT's printed words, run by the install kept in `data_dir`."""
    result = _run(data_dir, "-c", "import django, sys; django.setup(); exec(sys.argv.pop(1))", SCRIPT, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.split()


def _claims(user) -> dict:
    now = dt.datetime.now(tz=dt.UTC)
    return {"token_type": "access", "user_id": user.pk, "jti": uuid.uuid4().hex,
            "iat": int(now.timestamp()), "exp": int((now + dt.timedelta(hours=1)).timestamp())}


@pytest.mark.django_db
def test_a_token_signed_with_the_repository_key_is_refused(admin_user):
    # Given an admin token minted with the key the repository once shipped
    forged = jwt.encode(_claims(admin_user), REPOSITORY_KEY, algorithm="HS256")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    # When it is used: then it is refused, for reads and writes alike
    assert client.get("/api/v1/users/me/").status_code == 401
    assert client.post("/api/v1/users/", {"email": "mallory@test.example", "password": "x" * 12}).status_code == 401
    # And neither key of this install is that constant, nor are they one and the same
    assert REPOSITORY_KEY not in {settings.SECRET_KEY, settings.JWT_SIGNING_KEY}
    assert settings.JWT_SIGNING_KEY != settings.SECRET_KEY


@pytest.mark.django_db
def test_a_token_signed_with_the_secret_key_is_refused(admin_user):
    # JWTs have a key of their own: SECRET_KEY (which signs sessions and reset links) mints nothing
    forged = jwt.encode(_claims(admin_user), settings.SECRET_KEY, algorithm="HS256")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get("/api/v1/users/me/").status_code == 401


def test_two_fresh_installs_refuse_each_others_tokens(tmp_path):
    # Given two installs in two data directories, each minting a token for their user 1
    first, second = tmp_path / "first", tmp_path / "second"
    first_token = _install(first, "mint")[0]
    second_token, second_verdict = _install(second, "mint", first_token)
    # When each is shown the other's token: then each accepts only its own
    assert second_verdict == "refused"
    assert _install(first, "verify", first_token, second_token) == ["accepted", "refused"]
    # And each install generated its keys once, readable by its owner only, and shares none
    keys = {}
    for install in (first, second):
        for name in ("secret_key", "jwt_signing_key"):
            path = install / name
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            keys[(install.name, name)] = path.read_text().strip()
    assert len(set(keys.values())) == 4
    assert REPOSITORY_KEY not in keys.values()


def test_a_rotated_jwt_key_still_verifies_its_tokens_for_the_grace_period(tmp_path):
    # Given a token of an install
    old_token = _install(tmp_path, "mint")[0]
    old_key = (tmp_path / "jwt_signing_key").read_text()
    # When its JWT key is rotated
    result = _run(tmp_path, "manage.py", "rotate_jwt_key")
    assert result.returncode == 0, result.stderr
    # Then new tokens are signed with a new key, and the old token still works (nobody is signed out)
    assert (tmp_path / "jwt_signing_key").read_text() != old_key
    new_token = _install(tmp_path, "mint")[0]
    assert jwt.get_unverified_header(new_token) == jwt.get_unverified_header(old_token)
    assert _install(tmp_path, "verify", old_token, new_token) == ["accepted", "accepted"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(new_token, old_key.strip(), algorithms=["HS256"])
    # And once the grace period (the refresh tokens' lifetime) is over, the old key verifies nothing
    previous = tmp_path / JWT_PREVIOUS_KEYS_FILE
    assert stat.S_IMODE(previous.stat().st_mode) == 0o600
    retired_at, key = previous.read_text().split()
    assert key == old_key.strip()
    eight_days_ago = float(retired_at) - 8 * 24 * 3600
    previous.write_text(f"{eight_days_ago:.0f} {key}\n")
    assert _install(tmp_path, "verify", old_token, new_token) == ["refused", "accepted"]


@pytest.mark.django_db
def test_jwt_keys_of_the_settings_verify_and_previous_ones_too(rep, settings):
    # Given a refresh token signed with the current key
    old = APIClient().post("/api/v1/auth/token/", {"email": rep.email, "password": PASSWORD}).json()
    # When the operator rotates: a new JWT_SIGNING_KEY, the old one among JWT_PREVIOUS_SIGNING_KEYS
    settings.JWT_PREVIOUS_SIGNING_KEYS = [settings.JWT_SIGNING_KEY]
    settings.JWT_SIGNING_KEY = "a-new-key-for-this-install-" + "k" * 40
    # Then the old access and refresh tokens still work, and what they mint is signed with the new key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {old['access']}")
    assert client.get("/api/v1/users/me/").status_code == 200
    refreshed = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": old["refresh"]})
    assert refreshed.status_code == 200
    jwt.decode(refreshed.json()["access"], settings.JWT_SIGNING_KEY, algorithms=["HS256"])
    # And once the old key is dropped, the old access token is refused
    settings.JWT_PREVIOUS_SIGNING_KEYS = []
    assert client.get("/api/v1/users/me/").status_code == 401


@pytest.mark.parametrize(("asked", "debug"), [(None, "False"), ("1", "True")])
def test_debug_is_off_unless_asked_for(tmp_path, asked, debug):
    code = "from django.conf import settings; print(settings.DEBUG)"
    result = _run(tmp_path, "manage.py", "shell", "-c", code, **({"DJANGO_DEBUG": asked} if asked else {}))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == debug
