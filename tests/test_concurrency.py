"""Colleagues at once: every race is replayed deterministically, on every engine.

A "colleague" write is slipped in at the exact moment a real race would hit: after this
request has read and validated the contact, before it writes (`colleague_between_check_and_write`).
Each test names the defect it guards; before the fix these lost work, re-inserted a deleted
contact or answered 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from contacts import selectors, services
from contacts.factories import ContactFactory, MembershipFactory, TagFactory, UserFactory
from contacts.models import Contact, ContactTag, Membership, Role, Tag, Workspace
from contacts.services import ContactData


@pytest.fixture
def colleague_between_check_and_write(monkeypatch) -> Callable[[Callable[[], object]], None]:
    """Arrange for `write()` to run once, right after the next model validation passes.

    Services validate (`full_clean`) after reading and before writing: the window in which a
    colleague's request, in another process, commits in real life.
    """

    def arrange(write: Callable[[], object]) -> None:
        pending = [write]
        for model in (Contact, Tag, Workspace):
            original = model.full_clean

            def full_clean(self, *args, _original=original, **kwargs):
                _original(self, *args, **kwargs)
                if pending:
                    pending.pop()()

            monkeypatch.setattr(model, "full_clean", full_clean)

    return arrange


@pytest.fixture
def colleague_inserts_after_lookup(monkeypatch) -> Callable[[type, Callable[[], object]], None]:
    """Arrange for `insert()` to run once, right after the next `model.objects.get()` looked.

    `get_or_create` looks, then inserts: a colleague's insert in between is the race.
    """

    def arrange(model: type, insert: Callable[[], object]) -> None:
        queryset_class = type(model.objects.get_queryset())
        original = queryset_class.get
        pending = [insert]

        def get(self, *args, **kwargs):
            try:
                return original(self, *args, **kwargs)
            finally:
                if pending and self.model is model:
                    pending.pop()()

        monkeypatch.setattr(queryset_class, "get", get)

    return arrange


@pytest.fixture
def colleague(workspace):
    return MembershipFactory(workspace=workspace, role=Role.MEMBER, user=UserFactory(username="alice"))


def url(name: str, workspace, contact=None) -> str:
    kwargs = {"slug": workspace.slug}
    if contact is not None:
        kwargs["contact_id"] = contact.id
    return reverse(name, kwargs=kwargs)


def edit_form_fields(response) -> dict[str, str]:
    """The values an edit page's form would post back, as a browser would send them unchanged."""
    html = response.text
    fields = dict(re.findall(r'<input type="(?:text|email|tel|hidden)" name="(\w+)" value="([^"]*)"', html))
    fields.update(re.findall(r'<input type="text" name="(\w+)"[^>]* value="([^"]*)"', html))
    notes = re.search(r'<textarea name="notes"[^>]*>\n?(.*?)</textarea>', html, re.S)
    fields["notes"] = notes.group(1) if notes else ""
    status = re.search(r'<option value="(\w+)" selected>', html)
    fields["status"] = status.group(1) if status else "lead"
    fields.pop("csrfmiddlewaretoken", None)
    return {name: _unescape(value) for name, value in fields.items()}


def _unescape(value: str) -> str:
    for entity, char in (("&quot;", '"'), ("&#x27;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")):
        value = value.replace(entity, char)
    return value


def stored(contact: Contact) -> Contact:
    return Contact.objects.get(pk=contact.pk)


# --- Two tabs edit one contact -----------------------------------------------------------------


def test_two_tabs_saving_different_fields_keep_both_changes(member_client, workspace, contact):
    tab_a = edit_form_fields(member_client.get(url("contact_edit", workspace, contact)))
    tab_b = edit_form_fields(member_client.get(url("contact_edit", workspace, contact)))

    first = member_client.post(url("contact_edit", workspace, contact), {**tab_a, "company": "Globex"})
    second = member_client.post(url("contact_edit", workspace, contact), {**tab_b, "status": "active"})

    assert (first.status_code, second.status_code) == (302, 302)
    assert (stored(contact).company, stored(contact).status) == ("Globex", "active")


def test_a_stale_form_changing_the_same_field_saves_nothing_and_shows_both_values(
    member_client, workspace, contact
):
    tab_a = edit_form_fields(member_client.get(url("contact_edit", workspace, contact)))
    tab_b = edit_form_fields(member_client.get(url("contact_edit", workspace, contact)))
    member_client.post(url("contact_edit", workspace, contact), {**tab_a, "company": "Globex"})
    job_title = stored(contact).job_title

    response = member_client.post(
        url("contact_edit", workspace, contact), {**tab_b, "company": "Umbrella", "job_title": "Buyer"}
    )

    assert response.status_code == 409
    assert "Nothing was saved" in response.text
    assert "Keep yours: <q" in response.text and "Umbrella" in response.text
    assert "Use theirs: <q" in response.text and "Globex" in response.text
    assert (stored(contact).company, stored(contact).job_title) == ("Globex", job_title)
    assert 'value="Buyer"' in response.text, "what the user typed elsewhere is not lost"


@pytest.mark.parametrize(("keep", "company"), [("mine", "Umbrella"), ("theirs", "Globex")])
def test_after_a_conflict_the_user_picks_a_value_and_saves(member_client, workspace, contact, keep, company):
    tab_a = edit_form_fields(member_client.get(url("contact_edit", workspace, contact)))
    tab_b = edit_form_fields(member_client.get(url("contact_edit", workspace, contact)))
    member_client.post(
        url("contact_edit", workspace, contact), {**tab_a, "company": "Globex", "notes": "A's"}
    )
    conflict = member_client.post(
        url("contact_edit", workspace, contact), {**tab_b, "company": "Umbrella", "job_title": "Buyer"}
    )

    resolved = member_client.post(
        url("contact_edit", workspace, contact), {**edit_form_fields(conflict), "keep_company": keep}
    )

    assert resolved.status_code == 302
    saved = stored(contact)
    assert (saved.company, saved.job_title, saved.notes) == (company, "Buyer", "A's")


def test_a_plain_scripted_post_without_the_seen_values_still_saves_every_field(
    member_client, workspace, contact
):
    fields = {
        **edit_form_fields(member_client.get(url("contact_edit", workspace, contact))),
        "company": "Globex",
    }
    del fields["seen"]

    response = member_client.post(url("contact_edit", workspace, contact), fields)

    assert response.status_code == 302
    assert stored(contact).company == "Globex"


def test_the_edit_form_remembers_the_values_and_version_it_opened_at(member_client, workspace, contact):
    fields = edit_form_fields(member_client.get(url("contact_edit", workspace, contact)))

    seen = json.loads(fields["seen"])

    assert seen["company"] == "Initech" and seen["tags"] == "vip"


def test_every_change_increments_the_contact_version(member, contact):
    assert contact.version == 1

    services.contact_update(contact=contact, by=member, data=ContactData(company="Globex"))
    services.contact_change_tags(contact=contact, by=member, add=["partner"])

    assert stored(contact).version == 3


# --- The tag editor sends changes, not lists ----------------------------------------------------


def test_two_tabs_tagging_one_contact_keep_each_others_tags(member_client, workspace, contact):
    tags = url("contact_tags", workspace, contact)

    member_client.post(tags, {"add": "partner"})  # tab A still shows only "vip"
    member_client.post(tags, {"remove": "vip"})  # tab B, opened before A's save

    assert selectors.contact_tag_names(contact) == ["partner"]


def test_edit_form_tags_are_a_change_too(member_client, workspace, contact):
    tab_a = edit_form_fields(member_client.get(url("contact_edit", workspace, contact)))
    member_client.post(url("contact_tags", workspace, contact), {"add": "partner"})

    member_client.post(url("contact_edit", workspace, contact), {**tab_a, "tags": "vip, newsletter"})

    assert selectors.contact_tag_names(contact) == ["newsletter", "partner", "vip"]


def test_tag_suggestions_never_offer_a_tag_the_contact_has(member_client, workspace):
    contact = ContactFactory(workspace=workspace, tags=["r&d", "o'brien's"])
    TagFactory(workspace=workspace, name="rnd")

    detail = member_client.get(url("contact_detail", workspace, contact))
    vals = json.loads(_unescape(re.search(r'hx-vals="([^"]*)"', detail.text).group(1)))
    response = member_client.get(url("tag_suggest", workspace), {"add": "r", **vals})

    assert re.findall(r'data-tag-suggestion="([^"]+)"', response.text) == ["rnd"]


# --- A write racing a delete never brings the contact back ------------------------------------


def test_an_edit_racing_a_delete_answers_gone_and_does_not_reinsert(
    member, colleague, contact, colleague_between_check_and_write
):
    colleague_between_check_and_write(lambda: services.contact_delete(contact=contact, by=colleague))

    with pytest.raises(services.ContactGone):
        services.contact_update(contact=contact, by=member, data=ContactData(company="Globex"))

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not ContactTag.objects.filter(contact_id=contact.pk).exists()


def test_an_api_patch_racing_a_delete_answers_404(
    member_api, colleague, contact, colleague_between_check_and_write
):
    colleague_between_check_and_write(lambda: services.contact_delete(contact=contact, by=colleague))

    response = member_api.patch(api_url(contact), {"company": "Globex"}, format="json")

    assert response.status_code == 404
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_a_page_edit_racing_a_delete_answers_404(
    member_client, workspace, colleague, contact, colleague_between_check_and_write
):
    fields = edit_form_fields(member_client.get(url("contact_edit", workspace, contact)))
    colleague_between_check_and_write(lambda: services.contact_delete(contact=contact, by=colleague))

    response = member_client.post(url("contact_edit", workspace, contact), {**fields, "company": "Globex"})

    assert response.status_code == 404
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_a_tag_change_racing_a_delete_answers_404(
    member_client, workspace, colleague, contact, colleague_between_check_and_write
):
    colleague_between_check_and_write(lambda: services.contact_delete(contact=contact, by=colleague))

    response = member_client.post(url("contact_tags", workspace, contact), {"add": "partner"})

    assert response.status_code == 404
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not ContactTag.objects.filter(contact_id=contact.pk).exists()


def test_a_delete_racing_a_delete_answers_gone(member, colleague, contact):
    loaded = Contact.objects.get(pk=contact.pk)  # this request read the contact...
    services.contact_delete(contact=contact, by=colleague)  # ...then a colleague's delete committed

    with pytest.raises(services.ContactGone):
        services.contact_delete(contact=loaded, by=member)


def test_an_edit_racing_another_edit_of_other_fields_keeps_both(
    member, colleague, contact, colleague_between_check_and_write
):
    colleague_between_check_and_write(
        lambda: services.contact_update(contact=contact, by=colleague, data=ContactData(company="Globex"))
    )

    saved = services.contact_update(contact=contact, by=member, data=ContactData(status="active"))

    assert (stored(contact).company, stored(contact).status) == ("Globex", "active")
    assert saved.version == stored(contact).version == 3


# --- Unique races end as the ordinary message -------------------------------------------------


def test_two_creates_of_one_new_email_give_the_loser_the_form_message(
    member_client, workspace, colleague, colleague_between_check_and_write
):
    colleague_between_check_and_write(
        lambda: services.contact_create(
            workspace=workspace, by=colleague, data=ContactData(first_name="Ann", email="ann@example.com")
        )
    )

    response = member_client.post(
        url("contact_create", workspace),
        {"first_name": "Annie", "email": "Ann@example.com", "status": "lead"},
    )

    assert response.status_code == 200
    assert "already has this e-mail address" in response.text
    assert 'value="Annie"' in response.text, "the typed form is kept"
    assert Contact.objects.filter(workspace=workspace).count() == 1


def test_two_api_creates_of_one_new_email_give_the_loser_409(
    member_api, workspace, colleague, colleague_between_check_and_write
):
    colleague_between_check_and_write(
        lambda: services.contact_create(
            workspace=workspace, by=colleague, data=ContactData(first_name="Ann", email="ann@example.com")
        )
    )

    response = member_api.post(
        f"/api/v1/workspaces/{workspace.id}/contacts/",
        {"first_name": "Annie", "email": "ann@example.com"},
        format="json",
    )

    assert response.status_code == 409
    assert "already has this e-mail address" in response.json()["email"][0]


def test_an_edit_racing_another_onto_one_email_gives_the_form_message(
    member, colleague, workspace, contact, colleague_between_check_and_write
):
    colleague_between_check_and_write(
        lambda: services.contact_create(
            workspace=workspace, by=colleague, data=ContactData(first_name="Ann", email="ann@example.com")
        )
    )

    with pytest.raises(ValidationError) as error:
        services.contact_update(contact=contact, by=member, data=ContactData(email="ann@example.com"))

    assert "already has this e-mail address" in str(error.value)
    assert stored(contact).email == "annabel.leeds@example.com"


def test_two_creates_of_one_new_tag_both_get_the_one_tag(member, workspace, colleague_inserts_after_lookup):
    colleague_inserts_after_lookup(
        Tag, lambda: Tag.objects.bulk_create([Tag(workspace=workspace, name="new-tag")])
    )

    contact = services.contact_create(
        workspace=workspace, by=member, data=ContactData(first_name="Ann", tags=["New-Tag"])
    )

    assert Tag.objects.filter(workspace=workspace, name="new-tag").count() == 1
    assert selectors.contact_tag_names(contact) == ["new-tag"]


def test_a_workspace_slug_taken_meanwhile_is_the_ordinary_validation_error(
    db, colleague_between_check_and_write
):
    owner = UserFactory()
    colleague_between_check_and_write(lambda: Workspace.objects.create(name="Other", slug="acme"))

    with pytest.raises(ValidationError) as error:
        services.workspace_create(name="Acme", slug="acme", owner=owner)

    assert "slug" in error.value.message_dict
    assert Workspace.objects.filter(slug="acme").count() == 1


def test_adding_a_member_twice_at_once_leaves_one_membership(workspace, colleague_inserts_after_lookup):
    user = UserFactory()
    colleague_inserts_after_lookup(
        Membership,
        lambda: Membership.objects.bulk_create(
            [Membership(workspace=workspace, user=user, role=Role.VIEWER)]
        ),
    )

    membership = services.membership_set(workspace=workspace, user=user, role=Role.ADMIN)

    assert Membership.objects.filter(workspace=workspace, user=user).count() == 1
    assert membership.role == Role.ADMIN


def test_renaming_a_tag_in_the_admin_onto_an_existing_name_is_a_form_error(admin_client, workspace):
    TagFactory(workspace=workspace, name="vip")
    tag = TagFactory(workspace=workspace, name="partner")

    response = admin_client.post(
        reverse("admin:contacts_tag_change", args=[tag.pk]), {"name": "VIP", "_save": "Save"}
    )

    assert response.status_code == 200
    assert "already has a tag with this name" in response.text
    assert Tag.objects.get(pk=tag.pk).name == "partner"


# --- The API's ETag and If-Match ---------------------------------------------------------------


def api_url(contact) -> str:
    return f"/api/v1/workspaces/{contact.workspace_id}/contacts/{contact.id}/"


def test_a_contact_carries_its_version_as_etag(member_api, contact):
    response = member_api.get(api_url(contact))

    assert response["ETag"] == '"1"'
    assert response.json()["version"] == 1


def test_a_write_with_the_current_etag_succeeds_and_answers_the_next_one(member_api, contact):
    response = member_api.patch(api_url(contact), {"company": "Globex"}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 200
    assert response["ETag"] == '"2"'


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_write_with_a_stale_etag_answers_412_with_the_current_contact(member_api, member, contact, method):
    services.contact_update(contact=contact, by=member, data=ContactData(company="Globex"))

    response = getattr(member_api, method)(
        api_url(contact), {"first_name": "Stale", "company": "Umbrella"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 412
    assert response["ETag"] == '"2"'
    assert response.json()["company"] == "Globex"
    assert (stored(contact).first_name, stored(contact).company) == ("Annabel", "Globex")


def test_a_delete_with_a_stale_etag_answers_412_and_deletes_nothing(member_api, member, contact):
    services.contact_update(contact=contact, by=member, data=ContactData(company="Globex"))

    response = member_api.delete(api_url(contact), HTTP_IF_MATCH='W/"1"')

    assert response.status_code == 412
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert selectors.contact_tag_names(contact) == ["vip"]


@pytest.mark.parametrize("if_match", ['"2"', "garbage", '""', '"99999999999999999999999"', "W/", '"-1"'])
def test_an_if_match_that_names_no_current_version_answers_412(member_api, contact, if_match):
    response = member_api.patch(api_url(contact), {"company": "X"}, format="json", HTTP_IF_MATCH=if_match)

    assert response.status_code == 412
    assert stored(contact).company == "Initech"


@pytest.mark.parametrize("if_match", ["*", '"3", "1"'])
def test_if_match_star_or_a_list_naming_the_current_version_writes(member_api, contact, if_match):
    response = member_api.patch(api_url(contact), {"company": "X"}, format="json", HTTP_IF_MATCH=if_match)

    assert response.status_code == 200


def test_patches_without_if_match_keep_each_others_fields(
    member_api, colleague, contact, colleague_between_check_and_write
):
    colleague_between_check_and_write(
        lambda: services.contact_update(contact=contact, by=colleague, data=ContactData(company="Globex"))
    )

    response = member_api.patch(api_url(contact), {"status": "active"}, format="json")

    assert response.status_code == 200
    assert response.json()["company"] == "Globex"
    assert (stored(contact).company, stored(contact).status) == ("Globex", "active")


def test_the_openapi_schema_documents_if_match_and_412(member_api):
    schema = member_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    operation = schema["paths"]["/api/v1/workspaces/{workspace_id}/contacts/{contact_id}/"]["patch"]
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in operation["parameters"])
    assert "412" in operation["responses"]
    assert "ETag" in operation["responses"]["200"].get("headers", {})


def test_a_save_that_keeps_losing_the_race_says_so_and_saves_nothing(
    member_client, workspace, contact, monkeypatch
):
    fields = edit_form_fields(member_client.get(url("contact_edit", workspace, contact)))
    monkeypatch.setattr(services.contacts, "_claim", lambda contact, read_version: False)

    response = member_client.post(url("contact_edit", workspace, contact), {**fields, "company": "Globex"})

    assert response.status_code == 409
    assert "Colleagues kept changing this contact while you saved" in response.text
    assert stored(contact).company == "Initech"


def test_an_api_write_that_keeps_losing_the_race_answers_409(member_api, contact, monkeypatch):
    monkeypatch.setattr(services.contacts, "_claim", lambda contact, read_version: False)

    response = member_api.patch(api_url(contact), {"company": "Globex"}, format="json")

    assert response.status_code == 409
    assert stored(contact).company == "Initech"
