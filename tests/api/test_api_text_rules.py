"""The text rules over the REST API: look-alike e-mails, invisible characters, and a truthful schema."""

from __future__ import annotations

import pytest

from contacts.factories import ContactFactory
from contacts.models import Contact
from contacts.text import OPTIONAL_LINE_PATTERN, VISIBLE_LINE_PATTERN

DUPLICATE = "Another contact in this workspace already has this e-mail address."
STORED = "ann@xn--exmple-cua.com"


def contacts_url(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.id}/contacts/"


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param("ann@exämple.com", id="unicode-domain"),
        pytest.param("ann@exa\u0308mple.com", id="nfd-accent"),
        pytest.param("ANN@EXÄMPLE.COM", id="upper-case"),
        pytest.param("ann@XN--EXMPLE-CUA.COM", id="upper-case-punycode"),
    ],
)
def test_a_look_alike_of_an_existing_email_answers_409_on_the_email_field(
    member_api, member, workspace, spelling
):
    ContactFactory(workspace=workspace, email=STORED)

    response = member_api.post(
        contacts_url(workspace), {"first_name": "Ann", "email": spelling}, format="json"
    )

    assert response.status_code == 409
    assert response.json() == {"email": [DUPLICATE]}
    assert Contact.objects.filter(workspace=workspace).count() == 1


def test_a_unicode_domain_is_stored_and_returned_in_idna_form(member_api, member, workspace):
    response = member_api.post(
        contacts_url(workspace), {"first_name": "Ann", "email": "Ann@Exämple.com"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["email"] == STORED


def test_an_invisible_character_in_the_email_answers_400_naming_it(member_api, member, workspace):
    response = member_api.post(
        contacts_url(workspace), {"first_name": "Ann", "email": "ann\ufeff@example.com"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "email": ["The e-mail address contains an invisible character (U+FEFF); retype it."]
    }


def test_a_domain_without_idna_form_answers_400_not_500(member_api, member, workspace):
    response = member_api.post(
        contacts_url(workspace), {"first_name": "Ann", "email": "ann@☃.net"}, format="json"
    )

    assert response.status_code == 400
    assert "is not a valid domain name" in response.json()["email"][0]


@pytest.mark.parametrize("first_name", ["\u200b", "\u3164", " \u115f\u1160 ", "\u00ad\u200d\u2060"])
def test_an_invisible_only_first_name_answers_400_with_a_field_message(
    member_api, member, workspace, first_name
):
    response = member_api.post(contacts_url(workspace), {"first_name": first_name}, format="json")

    assert response.status_code == 400
    assert response.json() == {"first_name": ["Enter a name with at least one visible letter or digit."]}
    assert not Contact.objects.filter(workspace=workspace).exists()


@pytest.mark.parametrize("field", ["first_name", "last_name", "company", "job_title"])
def test_a_bidi_override_answers_400_on_its_field(member_api, member, workspace, field):
    body = {"first_name": "Ann", field: "moc.\u202eevil"}

    response = member_api.post(contacts_url(workspace), body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert "U+202E" in response.json()[field][0]


def test_a_name_the_published_pattern_allows_but_the_rules_refuse_answers_400_not_500(
    member_api, member, workspace
):
    # Tag characters lie beyond the basic plane, which the published pattern leaves out.
    response = member_api.post(contacts_url(workspace), {"first_name": "\U000e0041\U000e0042"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"first_name": ["Enter a name with at least one visible letter or digit."]}


def test_a_name_with_a_zero_width_joiner_inside_visible_text_is_accepted(member_api, member, workspace):
    response = member_api.post(contacts_url(workspace), {"first_name": "👩\u200d💻 Ann"}, format="json")

    assert response.status_code == 201


def _published_pattern(client, name: str) -> str:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    field = schema["components"]["schemas"]["ContactWriteRequest"]["properties"][name]
    # An optional field is `oneOf` the text and the empty string.
    return next(part["pattern"] for part in field.get("oneOf", [field]) if "pattern" in part)


@pytest.mark.parametrize(
    ("field", "pattern"),
    [
        ("first_name", VISIBLE_LINE_PATTERN),
        ("last_name", OPTIONAL_LINE_PATTERN),
        ("company", OPTIONAL_LINE_PATTERN),
        ("job_title", OPTIONAL_LINE_PATTERN),
    ],
)
def test_the_schema_publishes_the_single_line_rule_as_the_fields_pattern(member_api, member, field, pattern):
    assert _published_pattern(member_api, field) == pattern
