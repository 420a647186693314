"""Seed the six pipeline stages and a starter list of loss reasons (admins may change both)."""

from django.db import migrations

STAGES = [
    # key, label, order, default probability, closed, won
    ("discovery", "Discovery", 1, 10, False, False),
    ("qualification", "Qualification", 2, 20, False, False),
    ("proposal", "Proposal", 3, 50, False, False),
    ("negotiation", "Negotiation", 4, 75, False, False),
    ("closed_won", "Closed won", 5, 100, True, True),
    ("closed_lost", "Closed lost", 6, 0, True, False),
]

LOSS_REASONS = ["Price", "Lost to competitor", "No budget", "No decision", "Timing", "Missing features", "Other"]


def seed(apps, schema_editor):
    Stage = apps.get_model("opportunities", "Stage")
    LossReason = apps.get_model("opportunities", "LossReason")
    for key, label, order, prob, closed, won in STAGES:
        Stage.objects.get_or_create(
            key=key,
            defaults={"label": label, "order": order, "default_probability": prob, "is_closed": closed, "is_won": won},
        )
    for name in LOSS_REASONS:
        LossReason.objects.get_or_create(name=name)


def unseed(apps, schema_editor):
    apps.get_model("opportunities", "LossReason").objects.filter(name__in=LOSS_REASONS).delete()


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0002_forecasts")]

    operations = [migrations.RunPython(seed, unseed)]
