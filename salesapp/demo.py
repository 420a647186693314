"""Demo data, contributed by each app in dependency order.

`python manage.py seed_demo` creates the demo users itself and then calls each
registered loader with the users by role; loaders run once (the command
refuses to load twice unless told to).
"""

from collections.abc import Callable

_loaders: list[tuple[int, str, Callable[[dict], None]]] = []


def register_loader(order: int, name: str, loader: Callable[[dict], None]) -> None:
    """Register `loader(users)`; lower `order` runs first."""
    if all(n != name for _, n, _ in _loaders):
        _loaders.append((order, name, loader))


def loaders() -> list[tuple[int, str, Callable]]:
    return sorted(_loaders, key=lambda x: x[0])
