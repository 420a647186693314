import logging

from django.core.management.base import BaseCommand
from django.db import transaction

from salesapp import demo, services
from salesapp.models import User
from salesapp.roles import Role

DEMO_USERS = [
    # email, password, role, manager email, first, last
    ("admin@demo.example", "demo-admin-pass", Role.ADMIN, None, "Ada", "Admin"),
    ("manager@demo.example", "demo-manager-pass", Role.SALES_MANAGER, None, "Maria", "Manager"),
    ("rep1@demo.example", "demo-rep-pass", Role.SALES_REP, "manager@demo.example", "Jane", "West"),
    ("rep2@demo.example", "demo-rep-pass", Role.SALES_REP, "manager@demo.example", "Raj", "East"),
    ("rep3@demo.example", "demo-rep-pass", Role.SALES_REP, "manager@demo.example", "Lena", "Europe"),
    ("viewer@demo.example", "demo-viewer-pass", Role.READ_ONLY, None, "Victor", "Viewer"),
]


class Command(BaseCommand):
    help = "Load the demo data once: users for every role, then each app's demo records."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="load even if demo users exist")

    def handle(self, *args, force=False, verbosity=1, **options):
        if User.objects.filter(email=DEMO_USERS[0][0]).exists() and not force:
            self.stdout.write("Demo data already loaded.")
        else:
            # Every demo record logs a line at INFO (hundreds in all): a first start shows only its steps
            # and any warning, unless asked with -v 2.
            if verbosity < 2:
                logging.disable(logging.INFO)
            try:
                self._load()
            finally:
                logging.disable(logging.NOTSET)
        self._print_credentials()

    def _load(self) -> None:
        with transaction.atomic():
            users = self._users()
            for _, name, loader in demo.loaders():
                self.stdout.write(f"  loading {name} ...")
                loader(users)

    def _users(self) -> dict:
        by_email = {}
        for email, password, role, manager, first, last in DEMO_USERS:
            user = User.objects.filter(email=email).first() or services.user_create(
                email=email, password=password, role=role, manager=by_email.get(manager),
                first_name=first, last_name=last,
            )
            by_email[email] = user
        return {
            "admin": by_email["admin@demo.example"],
            "manager": by_email["manager@demo.example"],
            "reps": [by_email[f"rep{i}@demo.example"] for i in (1, 2, 3)],
            "viewer": by_email["viewer@demo.example"],
        }

    def _print_credentials(self):
        self.stdout.write("Demo users (email / password / role):")
        for email, password, role, *_ in DEMO_USERS:
            self.stdout.write(f"  {email:<24} {password:<18} {role}")
