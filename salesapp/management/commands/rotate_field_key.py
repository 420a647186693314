from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from salesapp.models import ReencryptionJob
from salesapp.settings.keys import FIELD_KEYS_FILE, field_keys, retire_field_keys, rotate_field_key


class Command(BaseCommand):
    help = (
        "Embedded default: put a new personal-data encryption key in front of this install's keys (old ones still "
        "decrypt). Then restart the app and workers, run `manage.py reencrypt_fields`, and once it has succeeded "
        "`manage.py rotate_field_key --retire` drops the old keys."
    )

    def add_arguments(self, parser):
        parser.add_argument("--retire", action="store_true",
                            help="Keep only the newest key (after a re-encryption job has succeeded under it)")

    def handle(self, *args, retire=False, **options):
        key_file = settings.DATA_DIR / FIELD_KEYS_FILE
        if not key_file.exists() or settings.FIELD_ENCRYPTION_KEYS != field_keys(settings.DATA_DIR):
            raise CommandError(
                "The keys come from the environment here (or the app was not restarted since the last rotation): "
                "put a new key first in FIELD_ENCRYPTION_KEYS, restart, run `manage.py reencrypt_fields`, then "
                "drop the old keys from FIELD_ENCRYPTION_KEYS."
            )
        if retire:
            last = ReencryptionJob.objects.order_by("-pk").first()
            if last is None or last.status != ReencryptionJob.Status.SUCCEEDED:
                raise CommandError("No re-encryption job has succeeded under the newest key: run reencrypt_fields first.")
            retire_field_keys(settings.DATA_DIR)
            self.stdout.write("Old encryption keys dropped; restart the app.")
            return
        keys = rotate_field_key(settings.DATA_DIR)
        self.stdout.write(f"New encryption key written ({len(keys)} keys now). Restart the app and workers, "
                          "then run `manage.py reencrypt_fields`.")
