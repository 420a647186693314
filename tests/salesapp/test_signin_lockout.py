"""Sign-in that resists guessing: lockout per account and per address, back-off, audit, admin unlock."""

import datetime as dt

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessAttemptExpiration
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.salesapp.conftest import PASSWORD

pytestmark = pytest.mark.django_db

GUESSER = "203.0.113.66"  # where the wrong passwords come from


def _token(email, password, address=GUESSER):
    return APIClient().post("/api/v1/auth/token/", {"email": email, "password": password}, REMOTE_ADDR=address)


def _lockout_entries(user=None):
    entries = LogEntry.objects.filter(changes__sign_in=["allowed", "locked out"])
    return entries.filter(object_pk=str(user.pk)) if user else entries


def test_the_eleventh_wrong_password_within_a_minute_is_refused_even_when_the_twelfth_is_right(rep, admin_user,
                                                                                                bearer):
    # Given eleven wrong passwords for one account, one after the other
    answers = [_token(rep.email, f"guess-{n}") for n in range(11)]
    # Then the first nine are plain refusals, and from the tenth on the account is locked
    assert [a.status_code for a in answers] == [401] * 9 + [429] * 2
    assert answers[10].json()["error"]["code"] == "locked_out"
    assert "locked for 5 minutes" in answers[10].json()["error"]["message"]
    # When the twelfth try brings the right password: it is refused too
    right = _token(rep.email, PASSWORD)
    assert right.status_code == 429
    assert "access" not in right.json()
    # And the same account is locked on the sign-in page too
    page = Client(REMOTE_ADDR="198.51.100.7").post("/login/", {"username": rep.email, "password": PASSWORD})
    assert page.status_code == 429
    assert "Sign-in locked" in page.content.decode()
    # When an admin unlocks the account
    unlocked = bearer(admin_user).post(f"/api/v1/users/{rep.pk}/unlock/")
    assert unlocked.status_code == 200
    assert unlocked.json()["failure_records_removed"] >= 1
    # Then the rep signs in with the right password again, even from where the guesses came from
    assert _token(rep.email, PASSWORD).status_code == 200
    # And the lockout left one audit entry (not one per refused try), and the unlock another naming the admin
    lockout = _lockout_entries(rep).get()
    assert lockout.remote_addr == GUESSER
    assert lockout.additional_data["username"] == rep.email
    unlock = LogEntry.objects.get(changes__sign_in=["locked out", "allowed"], object_pk=str(rep.pk))
    assert unlock.actor == admin_user


def test_the_account_counts_case_insensitively(rep):
    for n in range(10):
        _token(rep.email.upper() if n % 2 else rep.email, f"guess-{n}")
    assert _token(rep.email, PASSWORD).status_code == 429


def test_one_address_guessing_many_accounts_is_locked_out_per_address(rep):
    # Given ten wrong sign-ins from one address, each at a different account
    for n in range(10):
        _token(f"someone{n}@test.example", "guess")
    # Then that address may not sign in at all, not even with a right password
    assert _token(rep.email, PASSWORD).status_code == 429
    # While the account itself is fine from elsewhere
    assert _token(rep.email, PASSWORD, address="198.51.100.7").status_code == 200


def test_the_sign_in_page_locks_out_with_a_page_in_the_site_look(rep):
    browser = Client(REMOTE_ADDR=GUESSER)
    answers = [browser.post("/login/", {"username": rep.email, "password": f"guess-{n}"}) for n in range(10)]
    assert [a.status_code for a in answers] == [200] * 9 + [429]
    locked = browser.post("/login/", {"username": rep.email, "password": PASSWORD})
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "Sign-in locked" in html and "bootstrap.min.css" in html and "Reset your password" in html
    assert "_auth_user_id" not in browser.session


def test_the_admin_login_locks_out_too_and_the_console_unlocks(admin_user, rep):
    # Given ten wrong passwords for the rep on the admin console's login
    guesser = Client(REMOTE_ADDR=GUESSER)
    for n in range(10):
        guesser.post("/admin/login/", {"username": rep.email, "password": f"guess-{n}", "next": "/admin/"})
    assert guesser.post("/admin/login/", {"username": rep.email, "password": PASSWORD}).status_code == 429
    assert _lockout_entries(rep).count() == 1
    # When an admin uses the console's "Unlock sign-in" action on the rep
    console = Client()
    console.force_login(admin_user)
    response = console.post("/admin/salesapp/user/", {"action": "unlock_sign_in", "_selected_action": [rep.pk]})
    assert response.status_code == 302
    # Then the rep signs in again
    assert _token(rep.email, PASSWORD).status_code == 200
    assert not AccessAttempt.objects.filter(username=rep.email).exists()


def test_lockouts_back_off_a_second_lockout_lasts_twice_as_long(rep):
    # Given a first lockout of the account
    for n in range(10):
        _token(rep.email, f"guess-{n}")
    assert _lockout_entries(rep).get().additional_data["lockout_minutes"] == 5
    # And its period has passed (the stored failures are dated back past it)
    long_ago = timezone.now() - dt.timedelta(minutes=6)
    AccessAttempt.objects.update(attempt_time=long_ago)
    AccessAttemptExpiration.objects.update(expires_at=long_ago)
    assert _token(rep.email, PASSWORD).status_code == 200
    # When the guessing starts again the same day
    answers = [_token(rep.email, f"again-{n}") for n in range(10)]
    # Then the second lockout lasts ten minutes
    assert answers[-1].status_code == 429
    assert "locked for 10 minutes" in answers[-1].json()["error"]["message"]
    assert sorted(e.additional_data["lockout_minutes"] for e in _lockout_entries(rep)) == [5, 10]


@pytest.mark.parametrize("who", ["manager", "rep", "viewer"])
def test_only_admins_unlock(request, bearer, who, other_rep):
    assert bearer(request.getfixturevalue(who)).post(f"/api/v1/users/{other_rep.pk}/unlock/").status_code == 403
