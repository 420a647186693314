"""Query parameters that views read by hand (outside a filterset): parsed and documented alike."""

from drf_spectacular.utils import OpenApiParameter

from salesapp.api.errors import validation_error
from salesapp.filters import MAX_BIGINT

ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_BIGINT}


def id_parameter(name: str, description: str = "") -> OpenApiParameter:
    """The OpenAPI description of a record-id query parameter."""
    return OpenApiParameter(name, ID_SCHEMA, description=description)


def query_id(request, name: str) -> int | None:
    """The record id in query parameter `name` (None when absent or empty); 400 naming it otherwise."""
    value = request.query_params.get(name, "")
    if value == "":
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_BIGINT:
        raise validation_error(name, "Enter a record id (a whole number from 1).")
    return int(value)


def page_size_parameter(maximum: int) -> OpenApiParameter:
    """The OpenAPI description of a `page_size` query parameter (larger values are served `maximum` rows)."""
    return OpenApiParameter("page_size", {"type": "integer", "minimum": 1, "maximum": maximum})
