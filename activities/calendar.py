"""An iCalendar (RFC 5545) feed of a user's meetings and demos."""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

DEFAULT_MINUTES = 30


def _escape(text: str) -> str:
    return (text or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts, current = [], b""
    for ch in line:
        b = ch.encode()
        if len(current) + len(b) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += b
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _participant(p) -> str:
    if isinstance(p, dict):
        return p.get("name") or p.get("email") or ""
    return str(p)


def ics(*, user, events: list[dict], host: str) -> str:
    now = _stamp(timezone.now())
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Sales System//Activities//EN", "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH", f"X-WR-CALNAME:{_escape('Sales meetings of ' + (user.get_full_name() or user.email))}",
    ]
    for doc in events:
        start = doc["scheduled_at"]
        if start is None:
            continue
        end = start + timedelta(minutes=doc["duration_minutes"] or DEFAULT_MINUTES)
        title = doc["subject"] or doc["type"].title()
        detail = doc["description"] or ""
        notes = (doc.get("metadata") or {}).get("meeting_notes")
        if notes:
            detail = f"{detail}\n\n{notes}".strip()
        lines += [
            "BEGIN:VEVENT",
            f"UID:activity-{doc['id']}@{host.split(':', maxsplit=1)[0] or 'sales'}",
            f"DTSTAMP:{now}",
            f"DTSTART:{_stamp(start)}",
            f"DTEND:{_stamp(end)}",
            f"SUMMARY:{_escape(('Demo: ' if doc['type'] == 'demo' else '') + title)}",
            f"DESCRIPTION:{_escape(detail)}",
            f"STATUS:{'CONFIRMED'}",
            f"LAST-MODIFIED:{_stamp(doc['updated_at'])}",
        ]
        people = [_participant(p) for p in doc.get("participants") or []]
        if people:
            lines.append(f"X-PARTICIPANTS:{_escape(', '.join(p for p in people if p))}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
