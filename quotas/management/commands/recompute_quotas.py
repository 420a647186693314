import time

from django.core.management.base import BaseCommand

from quotas import attainment
from quotas.models import Quota


class Command(BaseCommand):
    help = "Re-measure the attainment of every quota (or of one period) from won deals and completed activities."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="only quotas of this period, e.g. Q1_2026")

    def handle(self, *args, period=None, **options):
        ids = None
        if period:
            ids = list(Quota.objects.filter(period=period).values_list("pk", flat=True))
        started = time.perf_counter()
        result = attainment.quotas_recompute(quota_ids=ids)
        elapsed = (time.perf_counter() - started) * 1000
        self.stdout.write(
            f"{result['quotas']} quotas measured, {result['changed']} changed, "
            f"{len(result['attained'])} newly attained, in {elapsed:.0f} ms"
        )
