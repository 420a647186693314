from django.core.management.base import BaseCommand

from salesapp.events import outbox_sweep


class Command(BaseCommand):
    help = "Resend outbox events the relay could not send (what the beat job does every 30 s)."

    def handle(self, *args, **options):
        self.stdout.write(str(outbox_sweep()))
