"""factory-boy factories shared by the tests and `seed_contacts` (realistic demo data)."""

from __future__ import annotations

import itertools
import re

import factory
from django.contrib.auth import get_user_model
from django.db.models import F
from factory.django import DjangoModelFactory

from contacts.models import Contact, ContactStatus, ContactTag, Membership, Role, Tag, Workspace, fold

DEFAULT_PASSWORD = "contacts-demo"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def save_password(user, create, extracted, **kwargs):  # noqa: N805 (factory-boy passes the object)
        if create:
            user.save()


class WorkspaceFactory(DjangoModelFactory):
    class Meta:
        model = Workspace
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class TagFactory(DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("workspace", "name")

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Iterator(
        ["vip", "newsletter", "partner", "prospect", "supplier", "event 2026", "follow-up"]
    )


class ContactFactory(DjangoModelFactory):
    """A plausible contact; writes bypass services on purpose (fixtures, not user actions)."""

    class Meta:
        model = Contact
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    # ASCII local part: Django's EmailValidator refuses accents, and a factory contact must stay editable.
    email = factory.LazyAttributeSequence(
        lambda c, n: re.sub(r"[^a-z0-9.]", "", fold(f"{c.first_name}.{c.last_name}.{n}")) + "@example.com"
    )
    phone = factory.Faker("numerify", text="+1 ### ### ####")
    company = factory.Faker("company")
    job_title = factory.Faker("job")
    notes = factory.Faker("paragraph", nb_sentences=2)
    status = factory.Iterator(
        [ContactStatus.LEAD, ContactStatus.ACTIVE, ContactStatus.LEAD, ContactStatus.ARCHIVED]
    )

    @factory.post_generation
    def tags(contact, create, extracted, **kwargs):  # noqa: N805
        """`ContactFactory(tags=["vip", "partner"])` links (and creates) tags by name."""
        if not create:
            return
        for name in extracted or []:
            tag = TagFactory(workspace=contact.workspace, name=name)
            ContactTag.objects.get_or_create(contact=contact, tag=tag)
        # Like every write that bypasses the services: cached reads of the workspace move on.
        Workspace.objects.filter(pk=contact.workspace_id).update(change_version=F("change_version") + 1)


_lead_numbers = itertools.count()


def leads(workspace: Workspace, count: int, **fields: object) -> list[Contact]:
    """`count` new leads of `workspace` ("Lead000 …"), each with an e-mail address of its own."""
    made = []
    for _ in range(count):
        number = next(_lead_numbers)
        made.append(
            ContactFactory(
                workspace=workspace,
                first_name=f"Lead{number:03}",
                email=f"lead{number:03}@example.com",
                status=ContactStatus.LEAD,
                **fields,
            )
        )
    return made
