import pytest

from salesapp import events


@pytest.fixture(autouse=True)
def _closed_event_breaker():
    """Each test starts with the event relay's breaker closed.

    The breaker is process state: one test's failing consumer would otherwise keep the next tests' events
    (and so their rescoring) from being delivered for OUTBOX_BREAKER_SECONDS.
    """
    events._breaker["open_until"] = 0.0
    yield

