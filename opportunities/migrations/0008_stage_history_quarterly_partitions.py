"""Stage history, partitioned by quarter of `changed_at` on PostgreSQL (salesapp.partitions); rows kept.

Nothing refers to a stage-history row, so its primary key may become (id, changed_at). SQLite is left as it is.
"""

from django.db import migrations

from salesapp.partitions import partition_table


def partition_stage_history(apps, schema_editor):
    partition_table(schema_editor, "opportunities_stagehistory", "changed_at")


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0007_opportunity_archive"), ("salesapp", "0007_data_access_quarterly_partitions")]

    operations = [migrations.RunPython(partition_stage_history, elidable=False)]
