"""Contacts' email and phone encrypted at rest, found by blind indexes (salesapp.crypto).

Existing rows are encrypted here, by this data migration (see leads 0005 for the steps); the contact
full-text index is rebuilt without the email. Irreversible: going back would need the keys to decrypt.
"""

import django.core.validators
from django.db import migrations, models

import salesapp.crypto

# The full-text index is rebuilt over opportunities.documents: the contact kind's `fields`, the expression its search uses.
drop_plain_indexes, encrypt_rows, full_text_index = salesapp.crypto.migration_steps(
    "opportunities", "Contact", old_indexes=("contact_search_fts_gin", "contact_email_trgm", "contact_phone_trgm"),
    fts_index="contact_search_fts_gin", search_fields=("first_name", "last_name", "title"))


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
