"""`seed_demo`: every role's demo user signs in and every page in their navigation opens.

One test, because loading the demo data is the slow part (every app's loader runs).
"""

import pytest
from django.core.management import call_command
from django.test import Client

from salesapp.management.commands.seed_demo import DEMO_USERS
from salesapp.models import User

pytestmark = pytest.mark.django_db


def test_demo_users_of_every_role_sign_in_and_open_every_page_in_their_navigation(capsys):
    # Given the demo data, loaded the way `make run` loads it
    call_command("seed_demo", verbosity=0)
    # When it is loaded again, nothing is duplicated and the credentials are printed
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "Demo data already loaded." in out
    assert User.objects.filter(email__in=[u[0] for u in DEMO_USERS]).count() == len(DEMO_USERS)
    for email, password, role, *_ in DEMO_USERS:
        assert email in out and password in out
        # Then each demo user signs in with the printed password and lands on the home page
        client = Client()
        response = client.post("/login/", {"username": email, "password": password}, follow=True)
        assert response.redirect_chain[-1][0] == "/", email
        assert email in response.content.decode()
        # And every page their navigation offers opens
        for item in response.context["nav_items"]:
            assert client.get(item["url"]).status_code == 200, (role, item["url"])
