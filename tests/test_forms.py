"""contacts.forms: the list's query-string form, the contact form and the tag editor form."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict

from contacts.factories import TagFactory
from contacts.forms import ContactFilterForm, ContactForm, TagEditForm, split_tags
from contacts.models import Contact
from contacts.selectors import ContactQuery


def filter_form(workspace, query_string: str) -> ContactFilterForm:
    form = ContactFilterForm(QueryDict(query_string), workspace=workspace)
    form.is_valid()
    return form


def test_a_valid_query_string_becomes_a_contact_query(workspace):
    TagFactory(workspace=workspace, name="vip")

    form = filter_form(workspace, "search=+ann+&status=lead&tag=vip&company=Initech&sort=-created&page=3")

    assert form.to_query() == ContactQuery(
        search="ann", status="lead", tag="vip", company="Initech", ordering="-created", page=3
    )
    assert form.problems() == []


def test_an_empty_query_string_is_the_default_query(workspace):
    form = filter_form(workspace, "")

    assert form.to_query() == ContactQuery()
    assert form.problems() == []
    # `read` takes a shortcut for it: the same answer as the form's, without building one.
    assert ContactFilterForm.read(QueryDict(""), workspace=workspace) == (ContactQuery(), [])


def test_read_gives_the_forms_query_and_problems(workspace):
    query, problems = ContactFilterForm.read(QueryDict("search=ann&page=x"), workspace=workspace)

    assert query == ContactQuery(search="ann")
    assert problems == ["“x” is not a page number; showing page 1."]


@pytest.mark.parametrize(
    ("query_string", "field"),
    [
        ("status=unknown", "status"),
        ("sort=password", "sort"),
        ("tag=missing", "tag"),
        ("page=two", "page"),
        ("page=0", "page"),
        ("page=99999999999", "page"),
        ("search=" + "a" * 101, "search"),
        ("company=" + "c" * 121, "company"),
    ],
)
def test_each_bad_parameter_falls_back_to_its_default_with_one_message(workspace, query_string, field):
    form = filter_form(workspace, query_string)

    query = form.to_query()

    assert len(form.problems()) == 1
    assert query == ContactQuery()


def test_a_long_bad_value_is_quoted_back_shortened(workspace):
    form = filter_form(workspace, "status=" + "x" * 500)

    assert form.problems() == [f"There is no status “{'x' * 30}…”; showing every status."]


def test_split_tags_ignores_blank_items():
    assert split_tags(" vip ,, Partner ,event 2026, ") == ["vip", "Partner", "event 2026"]


def contact_form(workspace, **changes) -> ContactForm:
    data = {"first_name": "Annabel", "status": "lead", "tags": "", **changes}
    return ContactForm(data, instance=Contact(workspace=workspace), workspace=workspace)


def test_contact_form_normalises_tags(workspace):
    form = contact_form(workspace, tags="VIP, partner ,vip")

    assert form.is_valid(), form.errors
    assert form.contact_data().tags == ["vip", "partner"]


def test_contact_form_puts_a_bad_tag_error_on_the_tags_field(workspace):
    form = contact_form(workspace, tags="fine, ?bad")

    assert not form.is_valid()
    assert form.errors["tags"][0].startswith("Tag “?bad”:")


def test_a_cleared_field_is_sent_as_empty_not_as_unchanged(workspace):
    form = contact_form(workspace, email="", phone="")

    assert form.is_valid(), form.errors
    data = form.contact_data()
    assert (data.email, data.phone) == ("", "")


def test_contact_form_shows_tags_of_the_stored_contact(contact, workspace):
    form = ContactForm(instance=contact, workspace=workspace)

    assert form["tags"].value() == "vip"


def test_service_errors_land_on_their_fields(workspace):
    form = contact_form(workspace)
    form.is_valid()

    form.add_service_errors(ValidationError({"phone": ["Bad phone."], "tags": ["Bad tag."]}))

    assert form.errors["phone"] == ["Bad phone."]
    assert form.errors["tags"] == ["Bad tag."]


def test_the_unique_email_constraint_message_lands_on_the_email_field(workspace):
    form = contact_form(workspace)
    form.is_valid()
    message = "Another contact in this workspace already has this e-mail address."

    form.add_service_errors(ValidationError({"__all__": [message]}))

    assert form.errors["email"] == [message]
    assert form.non_field_errors() == []


def test_an_unrelated_service_error_is_shown_for_the_whole_form(workspace):
    form = contact_form(workspace)
    form.is_valid()

    form.add_service_errors(ValidationError("Something else went wrong."))

    assert form.non_field_errors() == ["Something else went wrong."]


def test_save_via_returns_none_and_keeps_the_errors_when_the_service_refuses(workspace):
    form = contact_form(workspace)
    form.is_valid()

    def refuse(data):
        raise ValidationError({"email": ["Taken."]})

    assert form.save_via(refuse) is None
    assert form.errors["email"] == ["Taken."]


def test_tag_editor_reads_the_typed_tags_as_additions():
    form = TagEditForm({"add": "New, other,, VIP "})

    assert form.is_valid(), form.errors
    assert (form.cleaned_data["add"], form.cleaned_data["remove"]) == (["new", "other", "vip"], [])


def test_tag_editor_remove_names_one_tag_in_its_stored_form():
    form = TagEditForm({"remove": " VIP "})

    assert form.is_valid(), form.errors
    assert (form.cleaned_data["add"], form.cleaned_data["remove"]) == ([], ["vip"])


def test_tag_editor_refuses_an_oversized_submission():
    form = TagEditForm({"add": "a" * 1001})

    assert not form.is_valid()
    assert "at most 1000 characters" in form.errors["add"][0]
