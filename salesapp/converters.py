"""The `id` path converter: every route's record ids (`<id:pk>`), pages and API alike.

It matches 1 to 19 digits and refuses a value above 2^63 - 1, so an id no column can hold
answers 404 like any other unknown id, and a non-numeric id never reaches a view.
"""

from salesapp.filters import MAX_BIGINT


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_BIGINT:
            raise ValueError("not an id")  # no match: 404
        return number

    def to_url(self, value) -> str:
        return str(int(value))
