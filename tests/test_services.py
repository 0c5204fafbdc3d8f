import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from contacts import selectors, services
from contacts.factories import ContactFactory
from contacts.services import ContactData


def test_contact_create_then_find_by_accent_and_prefix(member, workspace):
    services.contact_create(
        workspace=workspace,
        by=member,
        data=ContactData(first_name="Ännabel", last_name="Leeds", email="A@B.COM", tags=["VIP"]),
    )

    page = selectors.contact_page(workspace, selectors.ContactQuery(search="ann lee"))

    assert [c.full_name for c in page.contacts] == ["Ännabel Leeds"]
    assert page.contacts[0].email == "a@b.com"
    assert page.tags_by_contact[page.contacts[0].id] == ["vip"]


def test_duplicate_email_is_refused(member, workspace, contact):
    with pytest.raises(ValidationError) as error:
        services.contact_create(
            workspace=workspace,
            by=member,
            data=ContactData(first_name="X", email="ANNABEL.leeds@example.com"),
        )
    assert "already has this e-mail" in str(error.value)


def test_viewer_cannot_create(viewer, workspace):
    with pytest.raises(PermissionDenied):
        services.contact_create(workspace=workspace, by=viewer, data=ContactData(first_name="X"))


def test_factory_contacts_pass_the_models_own_validation(workspace):
    contacts = [ContactFactory(workspace=workspace, first_name="Chloé", last_name="D'Arcy")]
    contacts += ContactFactory.create_batch(30, workspace=workspace)

    for contact in contacts:
        contact.full_clean()
