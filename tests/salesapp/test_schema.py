"""The API describes itself: an OpenAPI 3 document and interactive docs."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_schema_is_an_openapi_3_document_with_the_kernel_endpoints(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Sales System API"
    for path in ("/api/v1/auth/token/", "/api/v1/auth/token/refresh/", "/api/v1/users/", "/api/v1/users/me/",
                 "/api/v1/users/{id}/deactivate/", "/api/v1/events/"):
        assert path in document["paths"], path
    assert document["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"


def test_schema_as_json_on_request(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_docs_page_renders_swagger_ui_from_our_own_static_files(client):
    # Given the interactive docs page
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    # Its start-up script is a file of its own (the CSP allows no inline script), which loads our schema
    assert "<script>" not in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert "/api/schema/" in script.content.decode()
    # Then its assets come from this server, not a CDN (the app must work offline)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    bundle = next(a for a in assets if a.endswith("swagger-ui-bundle.js"))
    assert finders.find(bundle.split("/static/", 1)[1])
