import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    """A deal's score names the model that made it and keeps its reasons; only the scores service writes them."""

    dependencies = [
        ("opportunities", "0003_seed_stages"),
    ]

    operations = [
        migrations.AlterField(
            model_name="opportunity",
            name="deal_score",
            field=models.PositiveSmallIntegerField(
                blank=True, editable=False, null=True, validators=[django.core.validators.MaxValueValidator(100)]
            ),
        ),
        migrations.AddField(
            model_name="opportunity",
            name="score_model",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=60,
                help_text="The model that made deal_score, e.g. LightGBM v3 or Rules v1",
            ),
        ),
        migrations.AddField(
            model_name="opportunity",
            name="score_factors",
            field=models.JSONField(blank=True, default=list, editable=False,
                                   help_text="Why: reasons as {factor, points, detail}"),
        ),
    ]
