"""The records that lie in territories, as the apps owning them register them (territories imports no app).

Each app owning records with a territory registers one provider in its
AppConfig.ready() (through `territories.realignment.register_provider`):

- `label`: a plural noun for the records ("leads", "Open opportunities");
- `iter_candidates(batch_size)`: lists of `(pk, attrs, current_territory_id)` to realign
  (attrs: country, state, postal_code, industry, employee_count, annual_revenue, and
  optionally "label" for display);
- `apply_moves(moves, actor)`: writes one batch of `(pk, to_territory_id)` in one transaction;
- `territory_counts(territory_ids, *, user)`: how many of its records `user` may see lie
  in each of these territories, `{territory_id: n}` (restricted by the owning app's rule).
"""

from typing import Protocol


class RealignmentProvider(Protocol):
    label: str

    def iter_candidates(self, batch_size: int): ...

    def apply_moves(self, moves: list[tuple], actor) -> None: ...

    def territory_counts(self, territory_ids: list[int], *, user) -> dict[int, int]: ...


_providers: dict[str, RealignmentProvider] = {}


def register_provider(key: str, provider: RealignmentProvider) -> None:
    """Offer records of one kind (leads, accounts, opportunities) to realignment and to the record counts."""
    _providers[key] = provider


def unregister_provider(key: str) -> None:
    _providers.pop(key, None)


def providers() -> dict[str, RealignmentProvider]:
    return dict(_providers)
