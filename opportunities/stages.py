"""The pipeline a new installation starts with: six stages and a starter list of loss reasons.

Admins change labels, order and default probabilities afterwards (stage_update); which stages
are open, won and lost is read from the `Stage` rows, never from this list.
"""

DEFAULT_STAGES = [
    # key, label, order, default probability, closed, won
    ("discovery", "Discovery", 1, 10, False, False),
    ("qualification", "Qualification", 2, 20, False, False),
    ("proposal", "Proposal", 3, 50, False, False),
    ("negotiation", "Negotiation", 4, 75, False, False),
    ("closed_won", "Closed won", 5, 100, True, True),
    ("closed_lost", "Closed lost", 6, 0, True, False),
]

DEFAULT_LOSS_REASONS = ["Price", "Lost to competitor", "No budget", "No decision", "Timing", "Missing features",
                        "Other"]


def stages_seed(stage_model, loss_reason_model) -> None:
    """Create the default stages and loss reasons that are missing (the models may be a migration's)."""
    for key, label, order, prob, closed, won in DEFAULT_STAGES:
        stage_model.objects.get_or_create(
            key=key,
            defaults={"label": label, "order": order, "default_probability": prob, "is_closed": closed, "is_won": won},
        )
    for name in DEFAULT_LOSS_REASONS:
        loss_reason_model.objects.get_or_create(name=name)
