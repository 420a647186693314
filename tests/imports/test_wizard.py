"""The import wizard: columns mapped by synonyms with sample values and a preview; live progress in the
embedded default (no broker: the job runs in a thread of the web process)."""

import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.models import Lead
from salesapp.models import ImportJob
from salesapp.roles import Role
from tests.salesapp.factories import UserFactory

HEADER = "E-mail Address,First Name,Job Title,Employees,Revenue,Zip\n"


def _rows(n: int) -> str:
    return "".join(f"p{i}@wizard.example,Pat{i},CTO,{10 + i},{1000 * i},{10000 + i}\n" for i in range(n))


@pytest.mark.django_db
def test_the_mapping_step_maps_other_systems_headers_and_shows_samples_and_a_preview(client):
    manager = UserFactory(role=Role.SALES_MANAGER)
    client.force_login(manager)
    upload = SimpleUploadedFile("crm.csv", (HEADER + _rows(8)).encode(), content_type="text/csv")
    response = client.post("/imports/new/", {"kind": "leads", "file": upload})
    job = ImportJob.objects.get()
    assert job.mapping == {"E-mail Address": "email", "First Name": "first_name", "Job Title": "title",
                           "Employees": "employee_count", "Revenue": "annual_revenue", "Zip": "postal_code"}
    page = client.get(response.url).content.decode()
    samples = re.search(r'data-testid="samples-2">([^<]*)<', page).group(1)
    assert samples == "CTO, CTO, CTO, CTO, CTO"
    assert re.search(r'data-testid="samples-3">([^<]*)<', page).group(1) == "10, 11, 12, 13, 14"
    preview = page.split('data-testid="import-preview"')[1].split("</table>")[0]
    assert "<th>employee_count</th>" in preview and "<td>p0@wizard.example</td>" in preview


@pytest.mark.django_db(transaction=True)
def test_a_5000_row_import_in_the_embedded_default_shows_progress_moving(client, settings):
    settings.IMPORTS_IN_THREAD = True  # the embedded default: no broker, eager Celery
    manager = UserFactory(role=Role.SALES_MANAGER)
    client.force_login(manager)
    upload = SimpleUploadedFile("crm.csv", (HEADER + _rows(5000)).encode(), content_type="text/csv")
    url = client.post("/imports/new/", {"kind": "leads", "file": upload}).url
    job = ImportJob.objects.get()
    client.post(url, {f"map_{i}": c for i, c in enumerate(
        ["email", "first_name", "title", "employee_count", "annual_revenue", "postal_code"])} | {"on_error": "abort"})

    seen = []
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        card = client.get(f"/imports/{job.pk}/progress/").content.decode()
        done = re.search(r"(\d+) / (\d+) rows", card)
        seen.append((int(done.group(1)), int(done.group(2)), "hx-get" in card, card.split("data-testid=\"import-message\">")[-1][:40]))
        if "hx-get" not in card:
            break
        time.sleep(0.5)
    # the card kept polling while the rows moved, and ended with every row written
    moving = {(s[0], s[3]) for s in seen if s[2]}
    assert len(moving) >= 3, seen
    assert seen[-1][:2] == (5000, 5000) and Lead.objects.count() == 5000
