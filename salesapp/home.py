"""Home-page panels contributed by the apps.

The kernel imports no app: each app registers a function that, given the
request, returns a panel dict ({"title", "template", "context", "order"}) or
None when it has nothing to show the user.
"""

from collections.abc import Callable

_providers: list[Callable] = []


def register_panel(provider: Callable) -> None:
    if provider not in _providers:
        _providers.append(provider)


def panels_for(request) -> list[dict]:
    panels = [p for p in (provider(request) for provider in _providers) if p]
    return sorted(panels, key=lambda p: p.get("order", 100))
