"""`manage.py search_index rebuild|check [--kind lead ...]`: fill the search index from the database, or
compare the two.

- rebuild: each kind into a new index, swapped in by alias when full (searches keep answering from
  the old one meanwhile; consumers write to both), with progress as it goes.
- check: counts and a random sample both ways (missing, stale, extra); exits 1 on drift, so a
  scheduled run alerts. `--repair` rewrites the drifted records it found.
"""

from django.core.management.base import BaseCommand, CommandError

from salesapp import search_engine
from salesapp.search_kinds import search_kinds


class Command(BaseCommand):
    help = "Rebuild the search index by alias swap (no downtime), or check it against the database."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild", "check"])
        parser.add_argument("--kind", action="append", dest="kinds", help="lead, contact, account or deal (repeat)")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--sample", type=int, default=200, help="check: records sampled each way")
        parser.add_argument("--repair", action="store_true", help="check: rewrite the drifted records found")

    def handle(self, *args, action, kinds, batch_size, sample, repair, **options):
        if not search_engine.search_configured():
            raise CommandError("ELASTICSEARCH_URL is not set: search runs on the database, there is no index")
        known = [k.key for k in search_kinds()]
        for key in kinds or []:
            if key not in known:
                raise CommandError(f"unknown kind {key!r}; use {', '.join(known)}")
        keys = kinds or known
        if action == "rebuild":
            for key in keys:
                self._rebuild(key, batch_size)
            return
        drifted = [report for key in keys if not (report := self._check(key, sample, repair)).clean]
        if drifted and not repair:
            raise CommandError(f"drift in {', '.join(r.kind for r in drifted)}")

    def _rebuild(self, key: str, batch_size: int) -> None:
        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  {key}: {done:,} / {total:,}")

        self.stdout.write(f"{key}: rebuilding")
        report = search_engine.rebuild(key, batch_size=batch_size, progress=progress)
        rate = report.documents / report.seconds if report.seconds else 0
        self.stdout.write(self.style.SUCCESS(
            f"{key}: {report.documents:,} documents into {report.index} in {report.seconds:.1f} s "
            f"({rate:,.0f}/s); alias swapped, dropped {', '.join(report.dropped) or 'nothing'}"))

    def _check(self, key: str, sample: int, repair: bool):
        report = search_engine.drift(key, sample=sample)
        line = (f"{key}: database {report.database:,}, index {report.index:,}; sampled {report.sampled}: "
                f"{len(report.missing)} missing, {len(report.stale)} stale, {len(report.extra)} extra")
        self.stdout.write(self.style.SUCCESS(line) if report.clean else self.style.WARNING(line))
        if repair and not report.clean:
            written = search_engine.index_records(key, [*report.missing, *report.stale, *report.extra])
            self.stdout.write(f"{key}: rewrote {written} records")
        return report
