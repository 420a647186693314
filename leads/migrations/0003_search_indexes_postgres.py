"""PostgreSQL only: pg_trgm, a GIN full-text index and trigram indexes for lead search.

The full-text index is built from salesapp.search.search_vector(...), the very
expression the search query uses, so PostgreSQL can serve the match from it.
On SQLite this migration does nothing (search there is LIKE).
"""

from django.db import migrations

FTS_INDEX = "lead_search_fts_gin"
TRGM = {"lead_company_trgm": "company", "lead_last_name_trgm": "last_name", "lead_email_trgm": "email"}
SEARCH_FIELDS = ("first_name", "last_name", "email", "company")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    lead = apps.get_model("leads", "Lead")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.add_index(lead, GinIndex(SearchVector(*SEARCH_FIELDS, config="simple"), name=FTS_INDEX))
    table = lead._meta.db_table
    for name, column in TRGM.items():
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS {name} ON "{table}" USING gin ("{column}" gin_trgm_ops)')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in [FTS_INDEX, *TRGM]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_routing_history_webforms")]
    operations = [migrations.RunPython(forwards, backwards)]
