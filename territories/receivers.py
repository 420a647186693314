"""What territories do on events: drop the compiled assignment index in every process."""

from salesapp.events import on_event
from territories.selectors import assignment_index_invalidate


@on_event("territory.created", "territory.updated")
def assignment_index_on_change(event: dict) -> None:
    """A territory changed (after commit): matching must see it on the next call."""
    assignment_index_invalidate()
