"""Leads' email and phone encrypted at rest, found by blind indexes (salesapp.crypto).

Existing rows are encrypted here, by this data migration (not left to the re-encryption job): after
`migrate` no plain email or phone is left in the table. The steps: drop the PostgreSQL search indexes
that held the plain values, turn the columns into plain text, rename the normalised columns into blind
indexes, encrypt every row and fill its indexes, then declare the columns encrypted and rebuild the
full-text index without the email. Irreversible: going back would need the keys to decrypt.
"""

from django.db import migrations, models

import salesapp.crypto

# The full-text index is rebuilt over leads.documents: the lead kind's `fields`, the expression its search uses.
drop_plain_indexes, encrypt_rows, full_text_index = salesapp.crypto.migration_steps(
    "leads", "Lead", old_indexes=("lead_search_fts_gin", "lead_email_trgm", "lead_phone_trgm"),
    fts_index="lead_search_fts_gin", search_fields=("first_name", "last_name", "company"))


class Migration(migrations.Migration):
    dependencies = [("leads", "0004_phone_trigram_index")]
    operations = [
        migrations.RunPython(drop_plain_indexes, migrations.RunPython.noop),
        migrations.AlterField("lead", "email", models.TextField()),
        migrations.AlterField("lead", "phone", models.TextField(blank=True, default="")),
        migrations.RenameField("lead", "normalized_email", "email_blind_index"),
        migrations.RenameField("lead", "normalized_phone", "phone_blind_index"),
        migrations.AlterField("lead", "email_blind_index",
                              models.CharField(db_index=True, default="", editable=False, max_length=64)),
        migrations.AlterField("lead", "phone_blind_index",
                              models.CharField(blank=True, db_index=True, default="", editable=False, max_length=64)),
        migrations.RunPython(encrypt_rows),
        migrations.AlterField("lead", "email", salesapp.crypto.EncryptedTextField()),
        migrations.AlterField("lead", "phone", salesapp.crypto.EncryptedTextField(blank=True, default="")),
        migrations.RunPython(full_text_index),
    ]
