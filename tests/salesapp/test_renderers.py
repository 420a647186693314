"""The API's orjson renderer writes what DRF's own JSON renderer writes, for every kind of value an answer holds."""

import datetime
import decimal
import uuid

from django.db import models
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from salesapp.api.renderers import ORJSONRenderer


class Colour(models.TextChoices):
    RED = "red", "Red"


class Size(models.IntegerChoices):
    ONE = 1, "One"


def test_the_orjson_renderer_writes_the_bytes_drf_writes():
    answer = ReturnDict({
        "rows": ReturnList([{"id": 1, "name": "Zoë\u2028", "score": 2.5, "active": True, "none": None}], serializer=None),
        "at": datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
        "on_the_hour": datetime.datetime(2026, 1, 2, 3, 0, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 1, 2), "time": datetime.time(3, 4), "amount": decimal.Decimal("12.50"),
        "id": uuid.UUID(int=7), "colour": Colour.RED, "size": Size.ONE, "label": gettext_lazy("Name"),
        7: "an integer key", "pair": (1, 2), "set": {5}, "took": datetime.timedelta(seconds=90),
    }, serializer=None)

    assert ORJSONRenderer().render(answer) == JSONRenderer().render(answer)
    assert ORJSONRenderer().render(None) == JSONRenderer().render(None) == b""
