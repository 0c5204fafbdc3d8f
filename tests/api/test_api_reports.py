"""The workspace report over the API, and the contact list's `created` (month) filter."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema
import pytest
import yaml
from django.db.models import F

from contacts import selectors
from contacts.factories import ContactFactory
from contacts.models import Contact, Workspace
from tests.conftest import token_client


def report_url(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.id}/reports/"


def contacts_url(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.id}/contacts/"


@pytest.fixture
def reported(workspace, other_workspace):
    """Three contacts here (two of Initech, tagged), one added in March 2025; one elsewhere."""
    ann = ContactFactory(workspace=workspace, company="Initech", status="lead", tags=["vip"])
    ContactFactory(workspace=workspace, company="Initech", status="active", tags=["vip", "partner"])
    ContactFactory(workspace=workspace, company="", status="lead")
    Contact.objects.filter(pk=ann.pk).update(created_at=datetime(2025, 3, 31, 23, 59, 59, tzinfo=UTC))
    Workspace.objects.filter(pk=workspace.pk).update(change_version=F("change_version") + 1)
    ContactFactory(workspace=other_workspace, company="Initech", tags=["vip"])
    return ann


def test_the_report_is_the_selectors_figures_as_json(member_api, member, workspace, reported):
    response = member_api.get(report_url(workspace))

    assert response.status_code == 200
    body = response.json()
    assert body == selectors.workspace_report(Workspace.objects.get(pk=workspace.pk))
    assert body["total"] == 3
    assert body["by_status"] == [
        {"status": "lead", "count": 2},
        {"status": "active", "count": 1},
        {"status": "archived", "count": 0},
    ]
    assert body["by_company"] == [
        {"company": "Initech", "count": 2},
        {"company": None, "label": "Others", "count": 1},
    ]
    assert body["top_tags"] == [{"tag": "vip", "count": 2}, {"tag": "partner", "count": 1}]
    assert len(body["by_month"]) == 24


def test_a_viewer_may_read_the_report(viewer_api, viewer, workspace, reported):
    assert viewer_api.get(report_url(workspace)).json()["total"] == 3


def test_a_non_member_gets_404_and_a_stranger_401(outsider, anonymous_api, workspace, reported):
    response = token_client(outsider.user).get(report_url(workspace))

    assert response.status_code == 404
    assert "Initech" not in response.text
    assert anonymous_api.get(report_url(workspace)).status_code == 401


def test_the_report_only_reads(member_api, member, workspace):
    assert member_api.post(report_url(workspace), {}, format="json").status_code == 405


def test_the_schema_documents_the_report_and_the_answer_matches_it(
    client, member_api, member, workspace, reported
):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    operation = schema["paths"]["/api/v1/workspaces/{workspace_id}/reports/"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]

    body = member_api.get(report_url(workspace)).json()

    validator = jsonschema.Draft7Validator(
        {"$ref": ref, "components": nullable_as_null(schema["components"])}
    )
    validator.validate(body)
    assert {"404", "401", "429"} <= set(operation["responses"])


def nullable_as_null(value):
    """OpenAPI 3.0's `nullable: true` spelled the JSON Schema way, `type: [..., "null"]`."""
    if isinstance(value, dict):
        value = {key: nullable_as_null(item) for key, item in value.items()}
        if value.pop("nullable", False) and "type" in value:
            value["type"] = [value["type"], "null"]
        return value
    if isinstance(value, list):
        return [nullable_as_null(item) for item in value]
    return value


# --- the list's month filter ----------------------------------------------------------------------


def test_the_list_filters_by_the_month_added(member_api, member, workspace, reported):
    response = member_api.get(contacts_url(workspace), {"created": "2025-03"})

    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [str(reported.id)]
    assert member_api.get(contacts_url(workspace), {"created": "2025-04"}).json()["count"] == 0


def test_each_month_of_the_report_counts_what_the_list_shows(member_api, member, workspace, reported):
    report = member_api.get(report_url(workspace)).json()

    for entry in report["by_month"]:
        listed = member_api.get(contacts_url(workspace), {"created": entry["month"]}).json()["count"]
        assert listed == entry["count"], entry
    for entry in report["by_company"][:-1]:
        assert member_api.get(contacts_url(workspace), {"company": entry["company"]}).json()["count"] == 2


@pytest.mark.parametrize(
    "value",
    ["2025-13", "2025-3", "2025-03-01", "0999-12", "march", "", "2025-03\n", " 2025-03", "２０２５-03"],
)
def test_a_bad_month_answers_400_naming_the_parameter(member_api, member, workspace, value):
    response = member_api.get(contacts_url(workspace), {"created": value})

    assert response.status_code == 400
    assert set(response.json()) == {"created"}


def test_the_schema_publishes_the_month_filter(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    parameters = schema["paths"]["/api/v1/workspaces/{workspace_id}/contacts/"]["get"]["parameters"]

    [created] = [p for p in parameters if p["name"] == "created"]
    assert created["in"] == "query" and created["schema"]["pattern"] == "^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"
