from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from salesapp.settings.keys import JWT_KEY_FILE, rotate_jwt_key


class Command(BaseCommand):
    help = (
        "Embedded default: retire this install's JWT signing key and generate a new one. Tokens of the "
        "retired key keep working until they expire (the refresh lifetime); restart the app to sign with the new key."
    )

    def handle(self, *args, **options):
        key_file = settings.DATA_DIR / JWT_KEY_FILE
        if not key_file.exists() or settings.JWT_SIGNING_KEY != key_file.read_text().strip():
            raise CommandError(
                "The JWT key comes from the environment here: set a new JWT_SIGNING_KEY and move the old one "
                "into JWT_PREVIOUS_SIGNING_KEYS until the tokens it signed have expired."
            )
        rotate_jwt_key(settings.DATA_DIR, grace_seconds=settings.REFRESH_TOKEN_LIFETIME.total_seconds())
        self.stdout.write("New JWT signing key written; restart the app to use it. The old key verifies until "
                          f"{settings.REFRESH_TOKEN_LIFETIME} from now.")
