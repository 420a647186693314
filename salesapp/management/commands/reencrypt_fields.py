from django.core.management.base import BaseCommand

from salesapp.crypto import reencryption_job_start
from salesapp.models import ReencryptionJob


class Command(BaseCommand):
    help = ("Rewrite every encrypted value under the newest key (after a key rotation), as a long job that resumes "
            "from its checkpoint if its worker dies. With workers, it runs on the `jobs` queue; embedded, here.")

    def handle(self, *args, **options):
        job = reencryption_job_start()
        job = ReencryptionJob.objects.get(pk=job.pk)
        self.stdout.write(f"Re-encryption job {job.pk}: {job.status}, {job.processed} rows rewritten.")
