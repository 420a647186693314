from django.db import migrations


class Migration(migrations.Migration):
    """Scores live on the leads and deals themselves (one source for every page); the copy here goes."""

    dependencies = [
        ("intelligence", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="RecordScore"),
    ]
