"""Per-user request throttling with an atomic counter in the cache."""

import time

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from salesapp import cache


class UserMinuteThrottle(BaseThrottle):
    """At most N requests per user per minute (fixed window, one cache incr).

    Anonymous requests count per client IP. With Redis the counter is shared by
    every worker and `incr` is atomic; while Redis is unavailable each process
    counts on its own (salesapp.cache), so the API still answers.
    """

    scope = "user_minute"

    def __init__(self):
        rate = api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        count, _, period = rate.partition("/")
        self.limit = int(count)
        self.window = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]

    def allow_request(self, request, view):
        ident = f"u{request.user.pk}" if request.user and request.user.is_authenticated else f"ip{self.get_ident(request)}"
        window_start = int(time.time() // self.window)
        key = f"throttle:{self.scope}:{ident}:{window_start}"
        hits = cache.count(key, self.window + 1)
        self._wait = self.window - (time.time() % self.window)
        return hits <= self.limit

    def wait(self):
        return self._wait
