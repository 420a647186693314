"""The Elasticsearch index of leads (only imported when ELASTICSEARCH_URL is set).

Search hits give ids only; the database query that follows still applies the
access rule, so the index holds no access data.
"""

from django_elasticsearch_dsl import Document
from django_elasticsearch_dsl.registries import registry

from leads.models import Lead


@registry.register_document
class LeadDocument(Document):
    class Index:
        name = "leads"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}

    class Django:
        model = Lead
        fields = ["first_name", "last_name", "email", "phone", "company", "title", "industry", "status", "score",
                  "created_at"]
        queryset_pagination = 5000
