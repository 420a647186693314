"""The API's JSON renderer: orjson, writing the JSON DRF's own renderer writes for our answers.

Lists of 50 plain rows spend more time in `json.dumps` than in the database; orjson encodes them
several times faster. Same output: compact, UTF-8, aware date-times in UTC ending in "Z", decimals
as numbers (DRF's encoder turns them into floats), durations as seconds, lazy translations as text,
and U+2028/U+2029 escaped (they end a line in JavaScript).
"""

from datetime import timedelta
from decimal import Decimal

import orjson
from django.utils.functional import Promise
from rest_framework.renderers import JSONRenderer

OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
_LINE_ENDS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


def _default(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    if isinstance(value, bytes):
        return value.decode()
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "__iter__"):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class ORJSONRenderer(JSONRenderer):
    """`application/json` through orjson."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        out = orjson.dumps(data, default=_default, option=OPTIONS)
        for raw, escaped in _LINE_ENDS:
            if raw in out:
                out = out.replace(raw, escaped)
        return out
