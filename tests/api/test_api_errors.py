"""The API answers JSON for every error: bodies too large, JSON nested too deeply, server faults."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from contacts import selectors, services


def contacts_url(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.id}/contacts/"


def assert_json_detail(response, status: int) -> str:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"detail"}, body
    return body["detail"]


def test_a_body_over_the_upload_limit_is_413(member_api, workspace, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"first_name": "Zoë", "notes": "x" * 20_000})

    response = member_api.post(contacts_url(workspace), body, content_type="application/json")

    assert "larger than 10000 bytes" in assert_json_detail(response, 413)


def test_the_default_limit_applies(member_api, contact, settings):
    body = json.dumps({"first_name": "Zoë", "notes": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    url = f"{contacts_url(contact.workspace)}{contact.id}/"

    response = member_api.put(url, body, content_type="application/json")

    assert_json_detail(response, 413)


def test_a_declared_length_over_the_limit_is_refused_before_reading(member_api, workspace, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000

    response = member_api.generic(
        "POST",
        contacts_url(workspace),
        b'{"first_name": "Zo"}',
        content_type="application/json",
        CONTENT_LENGTH="5000",
    )

    assert_json_detail(response, 413)


def test_a_body_under_the_limit_is_still_read(member_api, workspace, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = member_api.post(contacts_url(workspace), {"first_name": "Zoë"}, format="json")

    assert response.status_code == 201, response.content


def test_a_large_form_encoded_body_on_a_session_is_a_json_415(member, workspace, settings):
    """Only JSON is parsed, also for the session's CSRF check, so a form body never reaches Django's parser."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    client = Client(enforce_csrf_checks=True)
    client.force_login(member.user)
    client.cookies["csrftoken"] = "a" * 32  # a well-formed cookie: the check goes on to read the body

    response = client.post(
        contacts_url(workspace),
        "first_name=" + "x" * 5_000,
        content_type="application/x-www-form-urlencoded",
    )

    assert "Unsupported media type" in assert_json_detail(response, 415)


@pytest.mark.parametrize("opening", ["[", '{"a":', '{"tags":['])
def test_deeply_nested_json_is_400(member_api, workspace, opening):
    response = member_api.post(contacts_url(workspace), opening * 100_000, content_type="application/json")

    assert "nested too deeply" in assert_json_detail(response, 400)


def test_nesting_just_under_the_recursion_limit_is_an_ordinary_400(member_api, workspace):
    body = "[" * 500 + "]" * 500

    response = member_api.post(contacts_url(workspace), body, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


def test_malformed_json_is_still_a_parse_error(member_api, workspace):
    response = member_api.post(contacts_url(workspace), "{nope", content_type="application/json")

    assert "JSON parse error" in assert_json_detail(response, 400)


@pytest.fixture
def server_fault(monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(selectors, "contacts_matching", explode)


def test_an_unhandled_error_under_the_api_is_a_json_500(member, workspace, server_fault):
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Token {services.api_token_get_or_create(user=member.user).key}")

    response = api.get(contacts_url(workspace))

    assert assert_json_detail(response, 500) == "Server error."
    assert "database on fire" not in response.content.decode()


def test_an_unhandled_error_on_a_page_keeps_the_html_500_page(member, workspace, server_fault):
    client = Client(raise_request_exception=False)
    client.force_login(member.user)

    response = client.get(f"/w/{workspace.slug}/contacts/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_the_schema_documents_413_and_500(member_api):
    schema = member_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    operations = [op for item in schema["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert operations
    for operation in operations:
        assert "500" in operation["responses"]
        if "requestBody" in operation:
            assert "413" in operation["responses"]
