"""Signing a browser in as a user without the sign-in form (its own test is test_sign_in.py)."""

from django.conf import settings
from django.test import Client


def sign_in(page, live_server, user) -> None:
    """Give the browser page a session of `user` on the live server."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
