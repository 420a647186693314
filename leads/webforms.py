"""Web-to-lead: public website forms whose submissions become leads.

A submission is refused when its Origin is not one the form allows (403) or
when its IP sent more than the form's hourly limit (429). A filled honeypot
field means a bot: the answer looks like success and nothing is written.
"""

from __future__ import annotations

import time

from django.http import Http404

from leads import services
from leads.models import WebToLeadForm
from salesapp import cache

FIELDS = ("email", "first_name", "last_name", "phone", "company", "title", "industry", "employee_count",
          "annual_revenue", "website", "country", "state", "postal_code")
WINDOW = 3600


class OriginRefused(Exception):
    """The request came from a site this form does not allow."""


class RateLimited(Exception):
    """Too many submissions from this IP; `wait` seconds until the window resets."""

    def __init__(self, wait: float):
        super().__init__("too many submissions")
        self.wait = wait


def webform_get(key: str) -> WebToLeadForm:
    form = WebToLeadForm.objects.filter(key=key, is_active=True).first()
    if form is None:
        raise Http404("no such form")
    return form


def origin_allowed(form: WebToLeadForm, origin: str) -> bool:
    allowed = form.origins
    if not allowed:
        return True
    return (origin or "").strip().rstrip("/").lower() in allowed


def _count(form: WebToLeadForm, ip: str) -> tuple[int, float]:
    window = int(time.time() // WINDOW)
    key = f"webtolead:{form.pk}:{ip}:{window}"
    hits = cache.count(key, WINDOW + 1)
    return hits, WINDOW - (time.time() % WINDOW)


def webform_submit(*, form: WebToLeadForm, data: dict, origin: str, ip: str):
    """Check origin and rate, drop bots, then capture the lead like any other (routed, scored, events)."""
    if not origin_allowed(form, origin):
        raise OriginRefused(origin)
    hits, wait = _count(form, ip or "unknown")
    if hits > form.rate_limit_per_hour:
        raise RateLimited(wait)
    if str(data.get(form.honeypot_field, "") or "").strip():
        return None
    fields = {k: data[k] for k in FIELDS if data.get(k) not in (None, "")}
    fields.setdefault("email", "")
    return services.lead_create(actor=None, source=form.source, **fields)
