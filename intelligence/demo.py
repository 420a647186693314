"""Demo data (order 60): a past sales history for the reps, the models trained on it, every open record scored."""

import logging

from django.core.exceptions import ValidationError

log = logging.getLogger(__name__)


def load(users: dict) -> None:
    from intelligence import services
    from intelligence.synthetic import generate_history

    reps = users.get("reps") or []
    if not reps:
        return
    territories = []
    try:
        from territories.models import Territory

        territories = list(Territory.objects.filter(is_active=True)[:6])
    except Exception:  # noqa: BLE001  (territories are optional for the history)
        territories = []
    generate_history(owners=reps, deals=300, leads=160, seed=60, territories=territories)
    for kind in ("deal", "lead"):
        try:
            services.model_train(actor=users.get("admin"), kind=kind)
        except ValidationError as exc:  # too little history: naive Bayes or the rules score instead
            log.info("demo %s model not trained: %s", kind, exc.messages)
        services.scores_refresh(kind=kind)
