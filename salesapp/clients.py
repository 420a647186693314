"""Who is calling: the client's address, as far as it can be believed."""

from django.conf import settings


def client_address(request) -> str:
    """The caller's IP address.

    X-Forwarded-For is believed only when settings.WEB_TO_LEAD_TRUSTED_PROXIES says how many
    proxies of ours sit in front (otherwise anyone could choose their address by sending the
    header); then the address our outermost proxy saw is taken.
    """
    hops = settings.WEB_TO_LEAD_TRUSTED_PROXIES
    forwarded = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")
