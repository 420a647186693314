"""Production settings: DEBUG off, secret from the environment, `check --deploy` clean."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_EVERY_EXTENSION = ("js", "mjs", "css", "map", "svg", "woff", "woff2", "ttf", "eot", "otf", "txt", "html", "png",
                    "jpg", "gif", "ico", "json", "md", "scss", "less", "LICENSE")


def _manage(*args, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120, check=False,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_SETTINGS_MODULE="salesapp.settings.production", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DJANGO_SETTINGS_MODULE="salesapp.settings.production")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_turn_debug_off_and_cookies_secure():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)"
    )
    result = _manage(
        "shell", "-c", code,
        DJANGO_SETTINGS_MODULE="salesapp.settings.production", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["False", "True", "True", "True"]


def test_collectstatic_succeeds_with_production_storage(tmp_path):
    # Given production settings that collect into a scratch directory (compression,
    # WhiteNoise's own business, is skipped: it takes minutes on a busy machine)
    (tmp_path / "collect_settings.py").write_text(
        "from salesapp.settings.production import *  # noqa\n"
        f"STATIC_ROOT = {str(tmp_path / 'static')!r}\n"
        f"WHITENOISE_SKIP_COMPRESS_EXTENSIONS = {_EVERY_EXTENSION!r}\n"
    )
    # When the static files are collected (hashed and compressed)
    result = _manage(
        "collectstatic", "--noinput", "-v", "0",
        DJANGO_SETTINGS_MODULE="collect_settings", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}",
    )
    # Then it succeeds, the vendored assets and the API docs' Swagger UI included
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "vendor/bootstrap/bootstrap.min.css" in manifest
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in manifest
