"""The data-access log, partitioned by quarter of `at` on PostgreSQL (salesapp.partitions); rows kept.

Nothing changes in Django's model state: the table keeps its columns and indexes; its primary key
becomes (id, at), as PostgreSQL asks of a partitioned table. SQLite is left as it is.
"""

from django.db import migrations

from salesapp.partitions import partition_table


def partition_data_access(apps, schema_editor):
    partition_table(schema_editor, "salesapp_dataaccess", "at")


class Migration(migrations.Migration):
    dependencies = [("salesapp", "0006_data_access_log")]

    operations = [migrations.RunPython(partition_data_access, elidable=False)]
