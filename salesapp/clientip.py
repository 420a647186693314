"""The address a request came from, for per-address limits (web-to-lead, sign-in lockouts)."""

from django.conf import settings


def client_ip(request) -> str:
    """The client's IP address.

    X-Forwarded-For is believed only when settings.WEB_TO_LEAD_TRUSTED_PROXIES says how many
    proxies of ours sit in front (otherwise anyone could dodge a limit by sending the header);
    then the address our outermost proxy saw is taken.
    """
    hops = settings.WEB_TO_LEAD_TRUSTED_PROXIES
    forwarded = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")
