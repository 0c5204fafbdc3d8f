"""contacts/models.py: derived fields, normalisation, validation and constraints, roles."""

from __future__ import annotations

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction

from contacts.factories import ContactFactory, TagFactory
from contacts.models import NOTES_MAX_LENGTH, Contact, Membership, Role, Tag

DUPLICATE_EMAIL_MESSAGE = "Another contact in this workspace already has this e-mail address."


def validation_errors(instance) -> dict[str, list[str]]:
    """The field → messages of `full_clean()`, or {} when the instance is valid."""
    try:
        instance.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


# --- Names -------------------------------------------------------------------------------------


def test_full_name_joins_first_and_last_name():
    contact = Contact(first_name="Annabel", last_name="Leeds")

    assert contact.full_name == "Annabel Leeds"


def test_full_name_and_initials_leave_out_a_missing_last_name():
    contact = Contact(first_name="Cher", last_name="")

    assert (contact.full_name, contact.initials) == ("Cher", "C")


def test_initials_are_the_upper_cased_first_letters_of_both_names():
    contact = Contact(first_name="élodie", last_name="de Vries")

    assert contact.initials == "ÉD"


# --- E-mail ------------------------------------------------------------------------------------


def test_email_is_stored_lower_case_without_surrounding_whitespace(workspace):
    contact = ContactFactory(workspace=workspace, email="  Annabel.Leeds@EXAMPLE.com ")

    contact.refresh_from_db()

    assert contact.email == "annabel.leeds@example.com"


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_a_blank_email_is_stored_as_null(workspace, blank):
    contact = ContactFactory(workspace=workspace, email=blank)

    contact.refresh_from_db()

    assert contact.email is None


def test_two_contacts_without_email_may_share_a_workspace(workspace):
    ContactFactory(workspace=workspace, email="")
    second = Contact(workspace=workspace, first_name="Second", email="")

    errors = validation_errors(second)
    second.save()

    assert errors == {}
    assert Contact.objects.filter(workspace=workspace, email__isnull=True).count() == 2


def test_a_duplicate_email_in_one_workspace_is_refused_on_the_email_field(workspace, contact):
    duplicate = Contact(workspace=workspace, first_name="Twin", email="ANNABEL.Leeds@example.com ")

    errors = validation_errors(duplicate)

    assert errors == {"email": [DUPLICATE_EMAIL_MESSAGE]}
    assert NON_FIELD_ERRORS not in errors


def test_the_database_refuses_a_duplicate_email_that_skipped_validation(workspace, contact):
    duplicate = Contact(workspace=workspace, first_name="Twin", email="Annabel.Leeds@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_the_same_email_in_another_workspace_is_accepted(other_workspace, contact):
    elsewhere = Contact(workspace=other_workspace, first_name="Annabel", email=contact.email)

    errors = validation_errors(elsewhere)

    assert errors == {}


# --- Single-line fields, phone, notes ----------------------------------------------------------


def test_clean_fields_collapses_whitespace_in_single_line_fields(workspace):
    contact = Contact(
        workspace=workspace,
        first_name="  Mary \t Ann ",
        last_name=" van  der\nBerg ",
        phone=" +44  20 7946   0958 ",
        company="Acme \n Ltd",
        job_title="  Head   of  Sales",
    )

    contact.clean_fields()

    assert (contact.first_name, contact.last_name, contact.phone, contact.company, contact.job_title) == (
        "Mary Ann",
        "van der Berg",
        "+44 20 7946 0958",
        "Acme Ltd",
        "Head of Sales",
    )


def test_clean_fields_trims_notes_but_keeps_their_line_breaks(workspace):
    contact = Contact(workspace=workspace, first_name="Ann", notes="  Met at the fair.\n\nCall back.  \n")

    contact.clean_fields()

    assert contact.notes == "Met at the fair.\n\nCall back."


def test_a_whitespace_only_first_name_is_required(workspace):
    contact = Contact(workspace=workspace, first_name="   ")

    with pytest.raises(ValidationError) as error:
        contact.full_clean()

    assert [e.code for e in error.value.error_dict["first_name"]] == ["blank"]


@pytest.mark.parametrize(
    "phone", ["+44 20 7946 0958", "(555) 123-4567 ext. 12", "0049-30-1234567", "555.123.4567 x9", "12345"]
)
def test_phone_accepts_realistic_numbers(workspace, phone):
    contact = Contact(workspace=workspace, first_name="Ann", phone=phone)

    errors = validation_errors(contact)

    assert errors == {}


@pytest.mark.parametrize("phone", ["call me", "1234", "+1 234 567 890 123 456 789 012", "12345 ext. abc"])
def test_phone_refuses_text_too_few_or_too_many_digits_with_an_example(workspace, phone):
    contact = Contact(workspace=workspace, first_name="Ann", phone=phone)

    errors = validation_errors(contact)

    assert list(errors) == ["phone"]
    assert "such as +44 20 7946 0958" in errors["phone"][0]


def test_notes_of_the_maximum_length_are_accepted(workspace):
    contact = Contact(workspace=workspace, first_name="Ann", notes="x" * NOTES_MAX_LENGTH)

    errors = validation_errors(contact)

    assert errors == {}


def test_notes_over_the_maximum_length_are_refused(workspace):
    contact = Contact(workspace=workspace, first_name="Ann", notes="x" * (NOTES_MAX_LENGTH + 1))

    errors = validation_errors(contact)

    assert list(errors) == ["notes"]
    assert str(NOTES_MAX_LENGTH) in errors["notes"][0]


# --- Tags --------------------------------------------------------------------------------------


def test_a_tag_name_is_stored_lower_case_with_single_spaces(workspace):
    tag = Tag(workspace=workspace, name="  Big \t CLIENT  ")

    tag.save()
    tag.refresh_from_db()

    assert tag.name == "big client"


def test_a_tag_name_that_normalises_to_an_existing_tag_fails_validation(workspace):
    TagFactory(workspace=workspace, name="vip")
    duplicate = Tag(workspace=workspace, name="VIP")

    errors = validation_errors(duplicate)

    assert errors == {NON_FIELD_ERRORS: ["This workspace already has a tag with this name."]}


def test_the_database_refuses_a_second_tag_with_the_same_name_in_a_workspace(workspace):
    TagFactory(workspace=workspace, name="vip")

    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(workspace=workspace, name="Vip")


def test_the_same_tag_name_is_allowed_in_another_workspace(workspace, other_workspace):
    TagFactory(workspace=workspace, name="vip")

    Tag.objects.create(workspace=other_workspace, name="VIP")

    assert Tag.objects.filter(name="vip").count() == 2


@pytest.mark.parametrize("name", ["<b>vip</b>", "-leading-dash", "vip; drop"])
def test_a_tag_name_with_forbidden_characters_fails_validation(workspace, name):
    tag = Tag(workspace=workspace, name=name)

    errors = validation_errors(tag)

    assert list(errors) == ["name"]
    assert "Tags may contain letters, digits" in errors["name"][0]


# --- Roles -------------------------------------------------------------------------------------

RANKED = [Role.VIEWER, Role.MEMBER, Role.ADMIN, Role.OWNER]


@pytest.mark.parametrize("role", RANKED)
@pytest.mark.parametrize("required", RANKED)
def test_has_role_means_at_least_that_rank(role, required):
    membership = Membership(role=role)

    allowed = membership.has_role(required)

    assert allowed is (RANKED.index(role) >= RANKED.index(required))


@pytest.mark.parametrize(
    ("role", "can_edit"),
    [(Role.VIEWER, False), (Role.MEMBER, True), (Role.ADMIN, True), (Role.OWNER, True)],
)
def test_only_members_and_above_can_edit(role, can_edit):
    membership = Membership(role=role)

    assert membership.can_edit is can_edit


def test_a_user_is_refused_a_second_membership_of_one_workspace(workspace, member):
    again = Membership(workspace=workspace, user=member.user, role=Role.VIEWER)

    errors = validation_errors(again)

    assert errors == {NON_FIELD_ERRORS: ["This user is already a member of the workspace."]}
