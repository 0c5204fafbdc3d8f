"""The text rules (contacts/text.py) as the product applies them: models, services, pages, admin forms."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from contacts import services
from contacts.factories import ContactFactory
from contacts.models import Contact, Tag, Workspace, normalize_tag_name
from contacts.services import ContactData

DUPLICATE = "Another contact in this workspace already has this e-mail address."
NAME_NEEDS_VISIBLE = "Enter a name with at least one visible letter or digit."
STORED = "ann@xn--exmple-cua.com"

# Each spelling reads as the same address as STORED.
LOOK_ALIKES = [
    pytest.param("ann@exämple.com", id="unicode-domain"),
    pytest.param("ann@exa\u0308mple.com", id="nfd-accent"),
    pytest.param("ANN@EXÄMPLE.COM", id="upper-case"),
    pytest.param("ann@XN--EXMPLE-CUA.com", id="upper-case-punycode"),
    pytest.param("  ann@exämple.com  ", id="surrounded-by-spaces"),
]


def errors_of(instance) -> dict[str, list[str]]:
    try:
        instance.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


# --- Models -------------------------------------------------------------------------------------


def test_save_stores_the_normalised_email(workspace):
    contact = ContactFactory(workspace=workspace, email="Ann@Exa\u0308mple.COM")

    contact.refresh_from_db()

    assert contact.email == STORED


def test_save_does_not_raise_for_an_email_that_validation_would_refuse(workspace):
    contact = ContactFactory(workspace=workspace, email="ann\u200b@example.com")

    assert contact.email == "ann\u200b@example.com"


def test_full_clean_refuses_an_invisible_character_in_the_email_with_one_clear_message(workspace):
    contact = Contact(workspace=workspace, first_name="Ann", email="ann\u200b@example.com")

    assert errors_of(contact) == {
        "email": ["The e-mail address contains an invisible character (U+200B); retype it."]
    }


def test_full_clean_refuses_a_domain_without_idna_form_instead_of_failing(workspace):
    contact = Contact(workspace=workspace, first_name="Ann", email="ann@☃.net")

    assert list(errors_of(contact)) == ["email"]
    assert "is not a valid domain name" in errors_of(contact)["email"][0]


@pytest.mark.parametrize("first_name", ["\u200b", "\u3164", "\u115f\u1160", "\u00ad\u2060", "\u200b \u200d"])
def test_a_first_name_of_only_invisible_characters_is_refused(workspace, first_name):
    contact = Contact(workspace=workspace, first_name=first_name)

    assert errors_of(contact) == {"first_name": [NAME_NEEDS_VISIBLE]}


@pytest.mark.parametrize("field", ["first_name", "last_name", "company", "job_title", "phone"])
def test_a_bidi_override_is_refused_in_every_single_line_field(workspace, field):
    values = {"first_name": "Ann", "phone": "+44 20 7946 0958", field: "Ann\u202eLeeds"}
    if field == "phone":
        values["phone"] = "+44 20\u202e7946 0958"
    contact = Contact(workspace=workspace, **values)

    errors = errors_of(contact)

    assert list(errors) == [field]
    assert errors[field] == [
        "This text contains an invisible control character (U+202E) that can change how it is shown; retype it."
    ]


def test_joiners_inside_a_visible_name_are_kept(workspace):
    contact = Contact(workspace=workspace, first_name="\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")

    assert errors_of(contact) == {}
    assert "\u200c" in contact.first_name


@pytest.mark.parametrize("field", ["last_name", "company", "job_title"])
def test_an_optional_field_of_only_invisible_characters_is_refused_but_blank_is_fine(workspace, field):
    assert field in errors_of(Contact(workspace=workspace, first_name="Ann", **{field: "\u3164"}))
    assert errors_of(Contact(workspace=workspace, first_name="Ann", **{field: "  "})) == {}


def test_a_workspace_name_of_only_invisible_characters_is_refused(db):
    workspace = Workspace(name="\u3164\u200b", slug="blank")

    assert errors_of(workspace) == {
        "name": ["Enter a workspace name with at least one visible letter or digit."]
    }


def test_tag_names_are_stored_in_nfc_with_fillers_counted_as_spaces():
    assert normalize_tag_name("Cafe\u0301") == "café"
    assert normalize_tag_name("VIP\u3164") == "vip"
    assert normalize_tag_name("\u3164\uffa0") == ""


def test_a_tag_of_only_a_hangul_filler_is_refused(workspace):
    tag = Tag(workspace=workspace, name="\u3164")

    assert "name" in errors_of(tag)


# --- Services -----------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", LOOK_ALIKES)
def test_contact_create_refuses_a_look_alike_of_an_existing_email_as_a_duplicate(member, workspace, spelling):
    services.contact_create(workspace=workspace, by=member, data=ContactData(first_name="Ann", email=STORED))

    with pytest.raises(ValidationError) as error:
        services.contact_create(
            workspace=workspace, by=member, data=ContactData(first_name="Other", email=spelling)
        )

    assert error.value.message_dict == {"email": [DUPLICATE]}
    assert Contact.objects.filter(workspace=workspace).count() == 1


def test_contact_create_stores_the_email_in_normal_spelling(member, workspace):
    contact = services.contact_create(
        workspace=workspace, by=member, data=ContactData(first_name="Ann", email=" Ann@EXA\u0308MPLE.com ")
    )

    contact.refresh_from_db()
    assert contact.email == STORED


def test_contact_create_refuses_an_invisible_only_first_name(member, workspace):
    with pytest.raises(ValidationError) as error:
        services.contact_create(workspace=workspace, by=member, data=ContactData(first_name="\u3164"))

    assert error.value.message_dict == {"first_name": [NAME_NEEDS_VISIBLE]}
    assert not Contact.objects.filter(workspace=workspace).exists()


def test_workspace_create_refuses_an_invisible_only_name(member):
    with pytest.raises(ValidationError) as error:
        services.workspace_create(name="\u200b", slug="invisible", owner=member.user)

    assert "name" in error.value.message_dict


# --- The create page ----------------------------------------------------------------------------

PAGE_VALUES = {"first_name": "Ann", "status": "lead", "tags": ""}


def _create(member_client, workspace, **values):
    url = reverse("contact_create", kwargs={"slug": workspace.slug})
    return member_client.post(url, {**PAGE_VALUES, **values})


@pytest.mark.parametrize("spelling", LOOK_ALIKES)
def test_the_create_page_refuses_a_look_alike_email_with_the_duplicate_message(
    member_client, workspace, spelling
):
    ContactFactory(workspace=workspace, email=STORED)

    response = _create(member_client, workspace, email=spelling)

    assert response.status_code == 200
    assert DUPLICATE in response.context["form"].errors["email"]
    assert Contact.objects.filter(workspace=workspace).count() == 1


def test_the_create_page_explains_an_invisible_character_in_the_email(member_client, workspace):
    response = _create(member_client, workspace, email="ann\u200b@example.com")

    assert response.context["form"].errors["email"] == [
        "The e-mail address contains an invisible character (U+200B); retype it."
    ]
    assert not Contact.objects.filter(workspace=workspace).exists()


def test_the_create_page_refuses_an_invisible_only_first_name(member_client, workspace):
    response = _create(member_client, workspace, first_name="\u200b\u3164")

    assert response.context["form"].errors["first_name"] == [NAME_NEEDS_VISIBLE]
    assert not Contact.objects.filter(workspace=workspace).exists()


def test_the_create_page_stores_a_unicode_domain_in_idna_form(member_client, workspace):
    response = _create(member_client, workspace, email="Ann@Exämple.com")

    assert response.status_code == 302
    assert Contact.objects.get(workspace=workspace).email == STORED
