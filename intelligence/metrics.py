"""Intelligence's numbers for /metrics: each active scoring model's holdout AUC and the age of its training.

Registered with the kernel's metrics from IntelligenceConfig.ready (the kernel imports no app). One query
per scrape, through the app's selectors.
"""

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from intelligence import selectors


class ScoringModelCollector:
    """Per kind (lead, deal): the active model's AUC on its holdout, and seconds since it was trained."""

    def collect(self):
        now = timezone.now()
        auc = GaugeMetricFamily("sales_scoring_model_auc", "Holdout AUC of the active scoring model",
                                labels=["kind", "algorithm", "version"])
        age = GaugeMetricFamily("sales_scoring_model_training_age_seconds",
                                "Seconds since the active scoring model was trained", labels=["kind"])
        for model in selectors.model_list(user=None).filter(is_active=True).only(
                "kind", "version", "algorithm", "metrics", "trained_at"):
            if model.metrics.get("auc") is not None:
                auc.add_metric([model.kind, model.algorithm, str(model.version)], model.metrics["auc"])
            age.add_metric([model.kind], (now - model.trained_at).total_seconds())
        yield auc
        yield age
