"""Opaque cursors for activity lists and timelines: a position, never an offset."""

import base64
import json
from datetime import datetime

from django.core.exceptions import ValidationError


def encode(time: datetime, rank: int, key: str) -> str:
    raw = json.dumps([time.isoformat(), rank, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> tuple[datetime, int, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        time, rank, key = json.loads(raw)
        parsed = datetime.fromisoformat(time)
        if parsed.tzinfo is None:
            raise ValueError
        return parsed, int(rank), str(key)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationError({"cursor": ["Invalid cursor."]})
