"""Contacts' email and phone encrypted at rest, found by blind indexes (salesapp.crypto).

Existing rows are encrypted here, by this data migration (see leads 0005 for the steps); the contact
full-text index is rebuilt without the email. Irreversible: going back would need the keys to decrypt.
"""

import django.core.validators
from django.db import migrations, models

import salesapp.crypto

OLD_INDEXES = ("contact_search_fts_gin", "contact_email_trgm", "contact_phone_trgm")
FTS_INDEX = "contact_search_fts_gin"
SEARCH_FIELDS = ("first_name", "last_name", "title")  # opportunities.documents: the contact kind's `fields`


def drop_plain_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in OLD_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def encrypt_rows(apps, schema_editor):
    salesapp.crypto.encrypt_existing_rows(apps.get_model("opportunities", "Contact"), {
        "email": ("email_blind_index", "email"), "phone": ("phone_blind_index", "phone")})


def full_text_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    schema_editor.add_index(apps.get_model("opportunities", "Contact"),
                            GinIndex(SearchVector(*SEARCH_FIELDS, config="simple"), name=FTS_INDEX))


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0006_search_indexes_postgres")]
    operations = [
        migrations.RunPython(drop_plain_indexes, migrations.RunPython.noop),
        migrations.AlterField("contact", "email", models.TextField(blank=True, default="")),
        migrations.AlterField("contact", "phone", models.TextField(blank=True, default="")),
        migrations.RenameField("contact", "normalized_phone", "phone_blind_index"),
        migrations.AlterField("contact", "phone_blind_index",
                              models.CharField(blank=True, db_index=True, default="", editable=False, max_length=64)),
        migrations.AddField("contact", "email_blind_index",
                            models.CharField(blank=True, db_index=True, default="", editable=False, max_length=64)),
        migrations.RunPython(encrypt_rows),
        migrations.AlterField("contact", "email", salesapp.crypto.EncryptedTextField(
            blank=True, default="", validators=[django.core.validators.EmailValidator()])),
        migrations.AlterField("contact", "phone", salesapp.crypto.EncryptedTextField(blank=True, default="")),
        migrations.RunPython(full_text_index),
    ]
