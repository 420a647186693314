"""Personal data at rest: a lead's and a contact's email and phone never reach the database in plain text,
yet dedup, contact matching and exact search still find them, and a key rotation loses nothing."""

import subprocess

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.db import connection

from leads.dedup import find_duplicates, lead_find_by_email
from leads.models import Lead
from opportunities.models import Contact
from opportunities.services.contacts import contact_create, contact_find_match
from salesapp import crypto
from salesapp.models import ReencryptionJob
from tests.opportunities.factories import AccountFactory

EMAIL = "Grace.Hopper@Navy.example"
PHONE = "+1 (555) 867-5309"
PLAIN = (EMAIL, EMAIL.lower(), PHONE, "15558675309", "555 867", "867-5309")


def _dump() -> bytes:
    """The whole database as a backup would hold it: pg_dump on PostgreSQL, SQLite's own dump otherwise."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        env = {"PGPASSWORD": db.get("PASSWORD") or ""}
        return subprocess.run(
            ["pg_dump", "--data-only", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432),
             "-U", db["USER"], db["NAME"]], env=env, capture_output=True, check=True).stdout
    connection.ensure_connection()
    return "\n".join(connection.connection.iterdump()).encode()


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE id = %s', [pk])  # noqa: S608 (our names)
        return cursor.fetchone()[0]


@pytest.fixture
def person(rep, api):
    """A lead created through the API and a contact through its service, both with the same email and phone."""
    response = api.as_user(rep).post("/api/v1/leads/", {
        "email": EMAIL, "phone": PHONE, "first_name": "Grace", "last_name": "Hopper", "company": "US Navy"})
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    account = AccountFactory(owner=rep)
    contact = contact_create(actor=rep, account=account, last_name="Hopper", email=EMAIL, phone=PHONE)
    return lead, contact


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_neither_the_email_nor_the_phone(person):
    lead, contact = person
    dump = _dump()
    assert b"Hopper" in dump  # the dump is real: the lead's (unencrypted) name is in it
    for plain in PLAIN:
        assert plain.encode() not in dump, plain
        assert plain.lower().encode() not in dump, plain
    # What is stored is a token that only the keys open
    assert crypto.decrypt(_raw("leads_lead", "email", lead.pk)) == EMAIL
    assert crypto.decrypt(_raw("opportunities_contact", "phone", contact.pk)) == PHONE


@pytest.mark.django_db
def test_dedup_matching_and_exact_search_still_find_the_encrypted_email_and_phone(person, rep, api):
    lead, contact = person
    assert lead_find_by_email(" grace.hopper@NAVY.example") == lead
    assert [(found, reasons) for found, reasons in find_duplicates({"email": EMAIL.upper(), "phone": "+15558675309"})
            ] == [(lead, ["same email", "same phone"])]
    assert contact_find_match(email=EMAIL.lower()) == contact
    assert contact_find_match(account=contact.account, phone="+1 555 867 5309") == contact
    client = api.as_user(rep)
    for text in (EMAIL, EMAIL.lower(), f"email:{EMAIL}", PHONE):
        listed = client.get("/api/v1/leads/", {"q": text}).json()["results"]
        assert [row["email"] for row in listed] == [EMAIL], text
    hits = client.get("/api/v1/search/", {"q": EMAIL.lower()}).json()["results"]
    assert {(hit["kind"], hit["id"]) for hit in hits} == {("lead", lead.pk), ("contact", contact.pk)}
    contacts = client.get("/api/v1/contacts/", {"email": EMAIL.upper()}).json()["results"]
    assert [row["id"] for row in contacts] == [contact.pk]


@pytest.mark.django_db
def test_after_a_key_rotation_and_the_reencryption_job_everything_still_reads(person, settings):
    lead, contact = person
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    # Given a new key put in front: new writes use it, old values still read
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    assert Lead.objects.get(pk=lead.pk).email == EMAIL
    # When the re-encryption job runs
    job = crypto.reencryption_job_start()
    job = crypto.reencryption_job_run(job.pk)
    assert job.status == "succeeded" and job.processed == Lead.objects.count() + Contact.objects.count()
    # Then the old key can be dropped and everything reads, matches and is found as before
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(_raw("leads_lead", "email", lead.pk).encode())
    assert (Lead.objects.get(pk=lead.pk).email, Lead.objects.get(pk=lead.pk).phone) == (EMAIL, PHONE)
    assert (Contact.objects.get(pk=contact.pk).email, Contact.objects.get(pk=contact.pk).phone) == (EMAIL.lower(), PHONE)
    assert lead_find_by_email(EMAIL) == lead
    assert contact_find_match(email=EMAIL) == contact


@pytest.mark.django_db
def test_a_reencryption_job_resumes_from_its_checkpoint(rep, settings):
    leads = [Lead.objects.create(email=f"p{i}@resume.example", phone=f"+49 30 {i:04d}") for i in range(3)]
    old_key, new_key = settings.FIELD_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    # Given a job whose worker died after the first lead (its checkpoint says so)
    job = ReencryptionJob.objects.create(status="running", checkpoint={"leads.Lead": leads[0].pk})
    # When it is run again, it goes on from there
    crypto.reencryption_job_run(job.pk)
    assert Fernet(old_key).decrypt(_raw("leads_lead", "email", leads[0].pk).encode()) == b"p0@resume.example"
    for lead in leads[1:]:
        with pytest.raises(InvalidToken):
            Fernet(old_key).decrypt(_raw("leads_lead", "email", lead.pk).encode())
        assert Fernet(new_key).decrypt(_raw("leads_lead", "phone", lead.pk).encode()).decode() == lead.phone


@pytest.mark.django_db
def test_a_query_that_compares_ciphertext_fails_loudly_instead_of_matching_nothing():
    from django.core.exceptions import FieldError

    with pytest.raises(FieldError):
        list(Lead.objects.filter(email="grace@navy.example"))
    assert crypto.blind_index("email", "A@B.example") == crypto.blind_index("email", " a@b.EXAMPLE")
    assert crypto.blind_index("email", "1555") != crypto.blind_index("phone", "1555")
    assert crypto.blind_index("phone", "") == ""


def test_an_install_rotates_its_own_keys_and_retires_the_old_ones_after_reencryption(tmp_path):
    from salesapp.settings.keys import field_keys, retire_field_keys, rotate_field_key

    first = field_keys(tmp_path)
    assert len(first) == 1 and field_keys(tmp_path) == first  # generated once, then kept
    rotated = rotate_field_key(tmp_path)
    assert rotated[1:] == first and rotated[0] not in first
    token = Fernet(first[0]).encrypt(b"old value")
    assert crypto._multifernet(tuple(rotated)).decrypt(token) == b"old value"  # the old key still decrypts
    retire_field_keys(tmp_path)
    assert field_keys(tmp_path) == rotated[:1]
