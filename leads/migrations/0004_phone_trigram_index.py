"""PostgreSQL only: a trigram index on phone, so `phone ILIKE '%...%'` in search is index-served."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("leads", "Lead")._meta.db_table
    schema_editor.execute(f'CREATE INDEX IF NOT EXISTS lead_phone_trgm ON "{table}" USING gin ("phone" gin_trgm_ops)')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS lead_phone_trgm")


class Migration(migrations.Migration):
    dependencies = [("leads", "0003_search_indexes_postgres")]
    operations = [migrations.RunPython(forwards, backwards)]
