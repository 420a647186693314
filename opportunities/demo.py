"""Demo data: accounts, contacts and deals across stages, owners and periods (placeholder)."""

from salesapp.demo import register_loader


def load(users: dict) -> None:
    from opportunities.demo_data import load_demo

    load_demo(users)


register_loader(20, "opportunities", load)
