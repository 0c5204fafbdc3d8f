"""What the MongoDB compile check runs: every public function of the read and write modules.

Each scenario calls one or more public functions the way the product does, against the
stand-in server, and asserts on the operations MongoDB would receive. A new public function in
`contacts/selectors.py` or `contacts/services.py` (or in modules of those packages once they
are split) fails `test_every_public_read_and_write_is_exercised` until a scenario here covers
it: add one with `@scenario(the_function)` next to its neighbours.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId
from django.contrib.auth import get_user_model
from django.utils import timezone

from contacts.models import Contact, ContactStatus, ContactTag, Membership, Role, Tag, Workspace
from tests.mongodb.standin import Recorder, to_document

CHECKED_MODULES = ("contacts.selectors", "contacts.services")

WORKSPACES = Workspace._meta.db_table
MEMBERSHIPS = Membership._meta.db_table
CONTACTS = Contact._meta.db_table
TAGS = Tag._meta.db_table
CONTACT_TAGS = ContactTag._meta.db_table
USERS = get_user_model()._meta.db_table


@dataclass
class World:
    """Two workspaces with members, contacts and a tag, held by the stand-in as if saved."""

    db: Recorder
    workspace: Workspace
    other_workspace: Workspace
    owner: Membership
    member: Membership
    viewer: Membership
    outsider: Any  # a user who belongs to the other workspace only
    contact: Contact  # Annabel Leeds of Initech, tagged "vip"
    other_contact: Contact  # Bob Smith of "A+B (UK)", active, untagged
    foreign_contact: Contact  # in the other workspace
    tag: Tag
    link: ContactTag
    after_commit: list[functools.partial] = field(default_factory=list)


def build_world(db: Recorder) -> World:
    now = timezone.now()
    user_model = get_user_model()
    users = {name: user_model(id=ObjectId(), username=name) for name in ("olivia", "max", "vera", "otto")}
    workspace = Workspace(name="Acme Sales", slug="acme-sales", created_at=now)
    other = Workspace(name="Globex Buying", slug="globex-buying", created_at=now)

    def membership(ws: Workspace, username: str, role: Role) -> Membership:
        return Membership(workspace=ws, user=users[username], role=role, created_at=now)

    def contact(ws: Workspace, first: str, last: str, company: str, email: str, **extra: Any) -> Contact:
        return Contact(
            workspace=ws,
            first_name=first,
            last_name=last,
            company=company,
            email=email,
            created_at=now,
            updated_at=now,
            **extra,
        )

    tag = Tag(workspace=workspace, name="vip", created_at=now)
    annabel = contact(workspace, "Annabel", "Leeds", "Initech", "annabel.leeds@example.com")
    world = World(
        db=db,
        workspace=workspace,
        other_workspace=other,
        owner=membership(workspace, "olivia", Role.OWNER),
        member=membership(workspace, "max", Role.MEMBER),
        viewer=membership(workspace, "vera", Role.VIEWER),
        outsider=users["otto"],
        contact=annabel,
        other_contact=contact(
            workspace, "Bob", "Smith", "A+B (UK)", "bob@example.com", status=ContactStatus.ACTIVE
        ),
        foreign_contact=contact(other, "Fiona", "Foreign", "Initech", "fiona@example.com"),
        tag=tag,
        link=ContactTag(contact=annabel, tag=tag),
    )
    db.store(*users.values(), workspace, other, world.owner, world.member, world.viewer)
    db.store(membership(other, "otto", Role.OWNER), world.contact, world.other_contact, world.foreign_contact)
    db.store(tag, Tag(workspace=other, name="vip", created_at=now), world.link)
    return world


# --- the registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    covers: tuple[Callable, ...]
    run: Callable[[World], None]

    @property
    def reads_only(self) -> bool:
        return all(function.__module__.startswith("contacts.selectors") for function in self.covers)


SCENARIOS: dict[str, Scenario] = {}


def scenario(*covers: Callable, name: str | None = None) -> Callable[[Callable[[World], None]], Callable]:
    def register(run: Callable[[World], None]) -> Callable:
        key = name or run.__name__
        assert key not in SCENARIOS, f"two scenarios are called {key}"
        SCENARIOS[key] = Scenario(key, covers, run)
        return run

    return register


def public_functions() -> dict[str, Callable]:
    """Public functions defined in the checked modules (or in the modules of those packages)."""
    found: dict[str, Callable] = {}
    for module_name in CHECKED_MODULES:
        root = importlib.import_module(module_name)
        modules = [root]
        if hasattr(root, "__path__"):
            modules += [
                importlib.import_module(info.name)
                for info in pkgutil.walk_packages(root.__path__, f"{module_name}.")
            ]
        for module in modules:
            for attribute, value in vars(module).items():
                if (
                    inspect.isfunction(value)
                    and not attribute.startswith("_")
                    and value.__module__.startswith(module_name)
                ):
                    found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


# --- helpers for assertions ------------------------------------------------------------------------


def one_pipeline(world: World, collection: str) -> list[dict]:
    pipelines = world.db.pipelines(collection)
    assert len(pipelines) == 1, f"expected one aggregation on {collection}:\n{world.db.transcript()}"
    return pipelines[0]


def stage(pipeline: list[dict], operator: str) -> Any:
    for step in pipeline:
        if operator in step:
            return step[operator]
    raise AssertionError(f"no {operator} stage in {pipeline}")


def conditions(match: dict) -> list[dict]:
    """The conditions of a `$match`, with `$and` flattened."""
    if set(match) == {"$and"}:
        return [part for item in match["$and"] for part in conditions(item)]
    return [{key: value} for key, value in match.items()]


def sort_keys(pipeline: list[dict]) -> list[tuple[str, int]]:
    return list(stage(pipeline, "$sort").items())


def inserted(world: World, collection: str) -> list[dict]:
    return [doc for op in world.db.ops("insert_many", collection) for doc in op.args[0]]


def joined(instance: Any, **related: Any) -> dict:
    """A document as `select_related()` reads it: related documents under their collection name."""
    document = to_document(instance)
    for value in related.values():
        document[value._meta.db_table] = to_document(value)
    return document


def mentions(value: Any, key_suffix: str, expected: Any) -> bool:
    """Whether a pipeline (or any part of it) has a condition `…key_suffix: expected`."""
    if isinstance(value, dict):
        return any(
            (key.endswith(key_suffix) and item == expected) or mentions(item, key_suffix, expected)
            for key, item in value.items()
        )
    if isinstance(value, list | tuple):
        return any(mentions(item, key_suffix, expected) for item in value)
    return False


# Scenarios live in two modules by side; importing them fills SCENARIOS.
from tests.mongodb import scenarios_reads, scenarios_writes  # noqa: E402, F401
