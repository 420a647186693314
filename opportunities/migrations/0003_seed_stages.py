"""Seed the six pipeline stages and a starter list of loss reasons (admins may change both)."""

from django.db import migrations

from opportunities.stages import DEFAULT_LOSS_REASONS, stages_seed


def seed(apps, schema_editor):
    stages_seed(apps.get_model("opportunities", "Stage"), apps.get_model("opportunities", "LossReason"))


def unseed(apps, schema_editor):
    apps.get_model("opportunities", "LossReason").objects.filter(name__in=DEFAULT_LOSS_REASONS).delete()


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0002_forecasts")]

    operations = [migrations.RunPython(seed, unseed)]
