from django.db import migrations


def create_active_model(apps, schema_editor):
    TerritoryModel = apps.get_model("territories", "TerritoryModel")
    if not TerritoryModel.objects.filter(state="active").exists():
        TerritoryModel.objects.create(name="Current plan", state="active")


class Migration(migrations.Migration):
    """Territories created without a model join the active one, so one must exist."""

    dependencies = [("territories", "0002_grants_and_realignment")]

    operations = [migrations.RunPython(create_active_model, migrations.RunPython.noop)]
