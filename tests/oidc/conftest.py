"""A running OpenID provider (tests/oidc/provider.mjs on the npm package oidc-provider) and the app pointed at it."""

import json
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
AUDIENCE = "https://api.sales.test"
USERS = {
    "ada": {"email": "ada@idp.example", "given_name": "Ada", "family_name": "Lovelace", "groups": ["sales-managers"]},
    "bob": {"email": "bob@idp.example", "given_name": "Bob", "family_name": "Newcomer", "groups": ["staff"]},
}


@dataclass
class Provider:
    issuer: str
    config_path: Path

    def set_user(self, login: str, **changes) -> None:
        """Change a user at the provider (the provider reads its users again at every lookup)."""
        config = json.loads(self.config_path.read_text())
        config["users"][login].update(changes)
        self.config_path.write_text(json.dumps(config))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def oidc_provider(live_server, settings, tmp_path):
    """The provider on a free port with a client for the live server, and the app's settings pointing at it."""
    assert (HERE / "node_modules" / "oidc-provider").is_dir(), "run `npm ci` in tests/oidc (as .ci/run does)"
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    config_path = tmp_path / "provider.json"
    config_path.write_text(json.dumps({
        "client": {"id": "sales-app", "secret": "sales-app-secret", "redirect_uri": f"{live_server.url}/oidc/callback/",
                   "post_logout_redirect_uri": f"{live_server.url}/login/"},
        "audience": AUDIENCE, "users": USERS,
    }))
    log_path = tmp_path / "provider.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([shutil.which("node"), str(HERE / "provider.mjs"), str(port), str(config_path)],
                                   cwd=HERE, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while "listening" not in log_path.read_text():
            assert time.monotonic() < deadline and process.poll() is None, log_path.read_text()
            time.sleep(0.1)
        settings.OIDC_ENABLED = True
        settings.ROOT_URLCONF = "tests.oidc.urls"
        settings.AUTHENTICATION_BACKENDS = ["salesapp.oidc.SalesOIDCBackend", *settings.AUTHENTICATION_BACKENDS]
        settings.OIDC_RP_CLIENT_ID = "sales-app"
        settings.OIDC_RP_CLIENT_SECRET = "sales-app-secret"  # noqa: S105 (the test provider's)
        settings.OIDC_OP_ISSUER = issuer
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{issuer}/auth"
        settings.OIDC_OP_TOKEN_ENDPOINT = f"{issuer}/token"  # noqa: S105
        settings.OIDC_OP_JWKS_ENDPOINT = f"{issuer}/jwks"
        settings.OIDC_OP_LOGOUT_ENDPOINT = f"{issuer}/session/end"
        settings.OIDC_OP_USER_ENDPOINT = ""
        settings.OIDC_RP_SCOPES = "openid email profile api"
        settings.OIDC_ROLE_MAP = {"sales-managers": "sales_manager", "sales-admins": "admin"}
        settings.OIDC_DEFAULT_ROLE = "read_only"
        settings.OIDC_API_AUDIENCE = AUDIENCE
        yield Provider(issuer=issuer, config_path=config_path)
    finally:
        process.terminate()
        process.wait(timeout=10)
