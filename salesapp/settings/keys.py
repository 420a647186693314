"""Keys of one install: the Django secret key, the JWT signing keys and the personal-data keys.

The embedded default has no configuration, yet no two installs may share a key (a key in the
repository would let anyone mint an admin token for every install that runs on it). So each
install generates its keys once, in its data directory (`SALES_DATA_DIR`, never committed),
readable by its owner only. Production takes them from the environment instead.

JWT keys rotate without signing everyone out at once: `rotate_jwt_key` retires the current key
into `jwt_previous_keys` (with the time it was retired) and writes a new one; a retired key still
verifies tokens until the longest-lived token it signed has expired, then it is dropped.
"""

import base64
import os
import secrets
import time
from pathlib import Path

SECRET_KEY_FILE = "secret_key"
JWT_KEY_FILE = "jwt_signing_key"
JWT_PREVIOUS_KEYS_FILE = "jwt_previous_keys"
FIELD_KEYS_FILE = "field_encryption_keys"
BLIND_INDEX_KEY_FILE = "blind_index_key"


class KeyFileError(RuntimeError):
    """A key file exists but holds no key: refuse to start rather than mint a new identity silently."""


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a new file readable by its owner only (0600), atomically.

    The text goes to a private temporary file first and is then linked into place: a second
    process starting at the same moment either wins the link or reads the winner's file, and
    nobody ever reads a half-written key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process of this install wrote it first: theirs is the key
    finally:
        tmp.unlink()


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if not key:
        raise KeyFileError(f"{path} is empty: restore it, or delete it to generate a new key (signs everyone out)")
    return key


def install_key(path: Path) -> str:
    """The key kept in `path`, generated on first use (64 random URL-safe bytes)."""
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(64) + "\n")
    return _read_key(path)


def _retired_keys(data_dir: Path, grace_seconds: float) -> list[tuple[str, str]]:
    """(retired at, key) of the retired JWT keys still within their grace period."""
    path = data_dir / JWT_PREVIOUS_KEYS_FILE
    if not path.exists():
        return []
    now = time.time()
    entries = [line.strip().partition(" ")[::2] for line in path.read_text().splitlines()]
    return [(retired_at, key) for retired_at, key in entries if key and now - float(retired_at) < grace_seconds]


def previous_jwt_keys(data_dir: Path, *, grace_seconds: float) -> list[str]:
    """Retired JWT keys of this install that may still verify tokens (retired less than `grace_seconds` ago)."""
    return [key for _, key in _retired_keys(data_dir, grace_seconds)]


def rotate_jwt_key(data_dir: Path, *, grace_seconds: float) -> None:
    """Retire this install's JWT signing key and generate a new one.

    Tokens signed with the retired key keep working for `grace_seconds`; new tokens are signed
    with the new key. Running processes pick the new key up when they restart. The retired key
    is written first, so a process starting half-way through still verifies every live token.
    """
    current = install_key(data_dir / JWT_KEY_FILE)
    retired = [*_retired_keys(data_dir, grace_seconds), (f"{time.time():.0f}", current)]
    previous = "".join(f"{retired_at} {key}\n" for retired_at, key in retired)
    for name, text in ((JWT_PREVIOUS_KEYS_FILE, previous), (JWT_KEY_FILE, secrets.token_urlsafe(64) + "\n")):
        path = data_dir / name
        staged = path.with_name(f".{name}.new")
        staged.unlink(missing_ok=True)
        _write_private(staged, text)
        os.replace(staged, path)


def _fernet_key() -> str:
    """A new Fernet key: 32 random bytes, URL-safe base64 (what cryptography's Fernet.generate_key makes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def field_keys(data_dir: Path) -> list[str]:
    """This install's personal-data encryption keys, newest first (the first encrypts, all decrypt).

    Generated once, like the other keys; `rotate_field_key` puts a new key in front.
    """
    path = data_dir / FIELD_KEYS_FILE
    if not path.exists():
        _write_private(path, _fernet_key() + "\n")
    keys = [line.strip() for line in _read_key(path).splitlines() if line.strip()]
    return keys


def rotate_field_key(data_dir: Path) -> list[str]:
    """Put a new encryption key in front of this install's keys; the old ones stay to decrypt until re-encrypted."""
    keys = [_fernet_key(), *field_keys(data_dir)]
    path = data_dir / FIELD_KEYS_FILE
    staged = path.with_name(f".{FIELD_KEYS_FILE}.new")
    staged.unlink(missing_ok=True)
    _write_private(staged, "".join(f"{key}\n" for key in keys))
    os.replace(staged, path)
    return keys


def retire_field_keys(data_dir: Path) -> None:
    """Keep only the newest encryption key (after the re-encryption job has run: nothing needs the old ones)."""
    path = data_dir / FIELD_KEYS_FILE
    staged = path.with_name(f".{FIELD_KEYS_FILE}.new")
    staged.unlink(missing_ok=True)
    _write_private(staged, field_keys(data_dir)[0] + "\n")
    os.replace(staged, path)
