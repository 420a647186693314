"""`GET /api/v1/search/`: one search across leads, contacts, accounts and deals.

The parameters are validated here (one serializer for the API, the search page and the top bar's
suggestions); the answer comes from salesapp.search, which filters by the user's visibility in
whichever engine runs.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from salesapp import access_log
from salesapp.api.fields import CountField, IdField
from salesapp.search import MAX_WINDOW, SearchRequest, search_records
from salesapp.search_kinds import CREATED_LABELS, search_kinds

MAX_PAGE_SIZE = 100


class SearchParamsSerializer(serializers.Serializer):
    """What a search may ask: text, kinds (repeated or comma-separated), one value per facet, a page."""

    q = serializers.CharField(required=False, allow_blank=True, default="", max_length=200, trim_whitespace=True)
    kind = serializers.ListField(child=serializers.CharField(), required=False, default=list,
                                 help_text="lead, contact, account, deal (repeat or comma-separate; none: all)")
    status = serializers.CharField(required=False, max_length=20, help_text="A lead status")
    stage = serializers.CharField(required=False, max_length=20, help_text="A deal stage key")
    owner = IdField(required=False, help_text="Owner (user id)")
    territory = IdField(required=False, help_text="Territory id")
    created = serializers.ChoiceField(choices=list(CREATED_LABELS.items()), required=False,
                                      help_text="Created period")
    page = CountField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=20)

    def validate_kind(self, value):
        keys = [k.key for k in search_kinds()]
        chosen = [part.strip() for item in value for part in item.split(",") if part.strip()]
        unknown = [k for k in chosen if k not in keys]
        if unknown:
            raise serializers.ValidationError(f"Unknown kind {unknown[0]!r}; use {', '.join(keys)}.")
        return list(dict.fromkeys(chosen))

    def validate(self, data):
        if data["page"] * data["page_size"] > MAX_WINDOW:
            raise serializers.ValidationError({"page": [f"Results go {MAX_WINDOW} deep; narrow the search."]})
        return data

    def search_request(self) -> SearchRequest:
        data = self.validated_data
        filters = tuple((name, data[name]) for name in ("status", "stage", "owner", "territory", "created")
                        if data.get(name) not in (None, ""))
        return SearchRequest(text=data["q"], kinds=tuple(data["kind"]), filters=filters, page=data["page"],
                             page_size=data["page_size"])


class FacetBucketSerializer(serializers.Serializer):
    value = serializers.JSONField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    title = serializers.CharField()
    subtitle = serializers.CharField()
    url = serializers.CharField()
    highlight = serializers.DictField(child=serializers.CharField(),
                                      help_text="Field -> HTML-escaped value with the matches in <em>")
    score = serializers.FloatField(allow_null=True)
    email = serializers.CharField()
    company = serializers.CharField()
    status = serializers.CharField(help_text="A lead's status or a deal's stage")
    owner_id = serializers.IntegerField(allow_null=True)
    territory_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    backend = serializers.ChoiceField(choices=["elasticsearch", "postgresql", "database"])
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next_page = serializers.IntegerField(allow_null=True)
    results = SearchHitSerializer(many=True)
    facets = serializers.DictField(child=FacetBucketSerializer(many=True),
                                   help_text="kind, status, stage, owner, territory, created: [{value, label, count}]")


class SearchView(APIView):
    """Search leads, contacts, accounts and deals at once: typo-tolerant, prefixes as you type,
    `email:` and `company:` field queries, "quoted phrases"; hits with highlights and facet counts,
    only of records the user may see."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[SearchParamsSerializer], responses=SearchResponseSerializer,
                   operation_id="v1_search_retrieve")
    def get(self, request):
        params = SearchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        answer = search_records(user=request.user, request=params.search_request())
        access_log.record_search_hits(request, answer)
        return Response(answer)
