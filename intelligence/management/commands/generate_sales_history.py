from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from intelligence.synthetic import generate_history


class Command(BaseCommand):
    help = ("Generate a synthetic sales history with a known signal (engaged deals win), "
            "for demos, tests and benchmarks; optionally train on it.")

    def add_arguments(self, parser):
        parser.add_argument("--deals", type=int, default=400)
        parser.add_argument("--leads", type=int, default=200)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--owners", default="", help="comma-separated owner emails (default: all sales reps)")
        parser.add_argument("--train", action="store_true", help="train the deal and lead models afterwards")

    def handle(self, *args, deals, leads, seed, owners, train, **options):
        User = get_user_model()
        qs = User.objects.filter(email__in=owners.split(",")) if owners else User.objects.filter(role="sales_rep")
        people = list(qs)
        if not people:
            raise CommandError("No owners: create sales reps first (seed_demo) or pass --owners.")
        counts = generate_history(owners=people, deals=deals, leads=leads, seed=seed)
        self.stdout.write(f"Generated {counts}")
        if train:
            from intelligence.tasks import model_train_task

            for kind in ("deal", "lead"):
                self.stdout.write(f"{kind}: {model_train_task(kind)}")
