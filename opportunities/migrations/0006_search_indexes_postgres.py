"""PostgreSQL only: full-text and trigram indexes for searching accounts, contacts and deals.

The full-text indexes are built from the same expression the search uses
(salesapp.search.search_vector over the kind's registered fields, config "simple"),
so PostgreSQL serves the match from them; the trigram indexes serve typo-tolerant
names (`%`) and substring matches on emails and phones (`ILIKE`). On SQLite this
migration does nothing (search there is LIKE).
"""

from django.db import migrations

FTS = {
    "account_search_fts_gin": ("Account", ("name", "website_domain", "industry")),
    "contact_search_fts_gin": ("Contact", ("first_name", "last_name", "email", "title")),
}
TRGM = {
    "account_name_trgm": ("Account", "name"),
    "contact_email_trgm": ("Contact", "email"),
    "contact_phone_trgm": ("Contact", "phone"),
    "opportunity_name_trgm": ("Opportunity", "name"),
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (model, fields) in FTS.items():
        schema_editor.add_index(apps.get_model("opportunities", model),
                                GinIndex(SearchVector(*fields, config="simple"), name=name))
    for name, (model, column) in TRGM.items():
        table = apps.get_model("opportunities", model)._meta.db_table
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS {name} ON "{table}" USING gin ("{column}" gin_trgm_ops)')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in [*FTS, *TRGM]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0005_deal_margin_and_cost")]
    operations = [migrations.RunPython(forwards, backwards)]
