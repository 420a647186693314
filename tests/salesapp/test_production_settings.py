"""Production settings: DEBUG off, keys from the environment, `check --deploy` clean, headers on every answer."""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
_EVERY_EXTENSION = ("js", "mjs", "css", "map", "svg", "woff", "woff2", "ttf", "eot", "otf", "txt", "html", "png",
                    "jpg", "gif", "ico", "json", "md", "scss", "less", "LICENSE")


def _environ(**env) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JWT_"))}
    environ.update(env)
    return environ


def _manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=_environ(**env), capture_output=True, text=True,
        timeout=120, check=False,
    )


def _keys() -> dict:
    return {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "BLIND_INDEX_KEY": secrets.token_urlsafe(50)}


PRODUCTION = {"DJANGO_SETTINGS_MODULE": "salesapp.settings.production"}


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, **_keys())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _manage("check", **PRODUCTION, JWT_SIGNING_KEY=secrets.token_urlsafe(50), SALES_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    # And it made up no key of its own on the way
    assert list(tmp_path.iterdir()) == []


def test_production_refuses_to_start_without_a_jwt_key_of_its_own(tmp_path):
    secret = secrets.token_urlsafe(50)
    missing = _manage("check", **PRODUCTION, DJANGO_SECRET_KEY=secret, SALES_DATA_DIR=str(tmp_path))
    assert missing.returncode != 0
    assert "JWT_SIGNING_KEY" in missing.stderr
    shared = _manage("check", **PRODUCTION, DJANGO_SECRET_KEY=secret, JWT_SIGNING_KEY=secret)
    assert shared.returncode != 0
    assert "JWT_SIGNING_KEY must be a key of its own" in shared.stderr


def test_production_refuses_to_start_without_personal_data_keys(tmp_path):
    keys = _keys()
    for missing in ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"):
        result = _manage("check", **PRODUCTION, **{k: v for k, v in keys.items() if k != missing},
                         SALES_DATA_DIR=str(tmp_path))
        assert result.returncode != 0
        assert missing in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_production_settings_turn_debug_off_and_cookies_secure():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)"
    )
    result = _manage("shell", "-c", code, **PRODUCTION, **_keys())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["False", "True", "True", "True"]


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """Production settings that serve static files collected into a scratch directory (compression,
    WhiteNoise's own business, is skipped: it takes minutes on a busy machine), and the collection."""
    tmp_path = tmp_path_factory.mktemp("production")
    (tmp_path / "collect_settings.py").write_text(
        "from salesapp.settings.production import *  # noqa\n"
        f"STATIC_ROOT = {str(tmp_path / 'static')!r}\n"
        f"WHITENOISE_SKIP_COMPRESS_EXTENSIONS = {_EVERY_EXTENSION!r}\n"
    )
    env = {"DJANGO_SETTINGS_MODULE": "collect_settings", "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
           "SALES_DATA_DIR": str(tmp_path / "data"), **_keys()}
    result = _manage("collectstatic", "--noinput", "-v", "0", **env)
    return tmp_path, env, result


def test_collectstatic_succeeds_with_production_storage(collected):
    # Given production settings that collect into a scratch directory
    tmp_path, _, result = collected
    # When the static files are collected (hashed): then it succeeds, the vendored assets and the
    # API docs' Swagger UI included
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "vendor/bootstrap/bootstrap.min.css" in manifest
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in manifest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own test server)
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def test_gunicorn_in_production_sends_the_security_headers_on_pages_api_errors_and_static(collected):
    # Given the app served by gunicorn with the production settings and the collected static files
    tmp_path, env, result = collected
    assert result.returncode == 0, result.stderr[-2000:]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "salesapp.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT, env=_environ(**env, DJANGO_ALLOWED_HOSTS="127.0.0.1"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        answers = {path: _get(base + path) for path in (
            "/login/", "/no-such-page/", "/api/v1/users/me/", "/api/v1/no-such-thing/",
            "/static/vendor/htmx/htmx.min.js", "/static/js/ui.js",
        )}
    finally:
        server.terminate()
        server.wait(timeout=30)
    # Then every answer, static files included, carries the CSP (no inline script), the
    # Permissions-Policy and HSTS, and the server names itself without a version
    assert {path: status for path, (status, _) in answers.items()} == {
        "/login/": 200, "/no-such-page/": 404, "/api/v1/users/me/": 401, "/api/v1/no-such-thing/": 404,
        "/static/vendor/htmx/htmx.min.js": 200, "/static/js/ui.js": 200,
    }
    for path, (_, headers) in answers.items():
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0], path
        assert "camera=()" in headers["Permissions-Policy"], path
        assert headers["Strict-Transport-Security"].startswith("max-age="), path
        assert headers["Server"] == "gunicorn", path
