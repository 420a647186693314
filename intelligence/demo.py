"""Demo data (order 60): the deal and lead models trained on the demo's history, every open record scored.

The demo's few closed deals are usually too little to learn from: the rule
scores stand until there is more (`python -m tests.intelligence.synthetic`
writes a long generated history into a development database).
"""

import logging

from django.core.exceptions import ValidationError

from intelligence import services
from intelligence.models import Kind

log = logging.getLogger(__name__)


def load(users: dict) -> None:
    for kind in Kind.values:
        try:
            services.model_train(actor=users["admin"], kind=kind)
        except ValidationError as exc:  # too little history: the rule score stands
            log.info("demo %s model not trained: %s", kind, exc.messages)
        services.scores_refresh(kind=kind, actor=None)
